package manager

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"msgo/framework"
)

// Push names of the calls that build their own frame (docs/manager-api.md).
const (
	EventNotice     = "system.notice"
	EventDataUpdate = "data.update"
)

// CloseKicked is the close code of /api/disconnect/user.
const CloseKicked = 1008

// pushParallel bounds how many users of one call are pushed at once: each
// push may wait on other nodes' counts, so a list of ids runs a few at a time.
const pushParallel = 16

// delivered is a send call's answer: connections reached cluster-wide.
type delivered struct {
	Delivered int `json:"delivered"`
}

// sendCall is a send call: to reads who the push goes to and frame reads
// and encodes the push, once, from the same body; any problem answers 400.
func (m *Manager) sendCall(to func(*form) []framework.Target, frame func(*form) *framework.Frame) endpoint {
	return func(r *http.Request) (any, error) {
		in := readBody(r)
		ts := to(in)
		f := frame(in)
		if err := in.done(); err != nil {
			return nil, err
		}
		return m.push(r.Context(), f, ts...)
	}
}

// POST /api/send/user {id, type?, event, param, info?}
func toUser(in *form) []framework.Target {
	return []framework.Target{{User: in.id("id", true), Type: in.userType("type")}}
}

// POST /api/send/users {ids, type?, event, param, info?}
func toUsers(in *form) []framework.Target {
	return userTargets(in.ids("ids", true), in.userType("type"))
}

// POST /api/broadcast {event, param, info?, exclude_id?}
func toAllBut(in *form) []framework.Target {
	return []framework.Target{{All: true, Exclude: in.id("exclude_id", false)}}
}

// POST /api/send/room {room, event, param, info?}
func (m *Manager) toRoom(in *form) []framework.Target {
	return []framework.Target{{Group: framework.Room(in.id("room", true))}}
}

// POST /api/notify {title, message, level, ids?} goes to ids, or everyone;
// POST /api/data-update {ids? | room?, resource_type, action, data} to ids, a
// room, or everyone when neither is given. An empty ids list is nobody.
func (m *Manager) toAudience(rooms bool) func(*form) []framework.Target {
	return func(in *form) []framework.Target {
		if rooms && in.has("ids") && in.has("room") {
			in.fail("ids", "give ids or room, not both")
			return nil
		}
		switch {
		case in.has("ids"):
			return userTargets(in.ids("ids", false), "")
		case rooms && in.has("room"):
			return m.toRoom(in)
		}
		return []framework.Target{{All: true}}
	}
}

func userTargets(ids []string, typ string) []framework.Target {
	ts := make([]framework.Target, len(ids))
	for i, id := range ids {
		ts[i] = framework.Target{User: id, Type: typ}
	}
	return ts
}

// pushFrame reads a send call's event, param and info.
func pushFrame(in *form) *framework.Frame {
	event := in.str("event", true)
	param := in.object("param")
	info := in.str("info", false)
	return in.encode(framework.Message{Status: framework.StatusOK, Event: event, Info: info, Param: param})
}

// notice is the param of a system.notice push.
type notice struct {
	Title   string `json:"title"`
	Message string `json:"message"`
	Level   string `json:"level"`
	Time    int64  `json:"time"` // unix ms
}

func noticeFrame(in *form) *framework.Frame {
	n := notice{Title: in.str("title", true), Message: in.str("message", true), Level: in.str("level", true), Time: time.Now().UnixMilli()}
	return in.encode(framework.Message{Status: framework.StatusOK, Event: EventNotice, Param: n})
}

// dataUpdate is the param of a data.update push.
type dataUpdate struct {
	ResourceType string          `json:"resource_type"`
	Action       string          `json:"action"`
	Data         json.RawMessage `json:"data"`
}

func dataUpdateFrame(in *form) *framework.Frame {
	u := dataUpdate{ResourceType: in.str("resource_type", true), Action: in.str("action", true), Data: in.value("data")}
	return in.encode(framework.Message{Status: framework.StatusOK, Event: EventDataUpdate, Param: u})
}

// encode encodes a push unless the form already failed.
func (in *form) encode(msg framework.Message) *framework.Frame {
	if in.err != nil {
		return nil
	}
	f, err := framework.NewFrame(msg)
	if err != nil {
		in.err = err
	}
	return f
}

// push sends f to every target, at most pushParallel at once, and answers
// how many connections it reached across the cluster. A failure still
// reports the connections reached.
func (m *Manager) push(ctx context.Context, f *framework.Frame, ts ...framework.Target) (any, error) {
	var (
		total atomic.Int64
		mu    sync.Mutex
		errs  []error
		wg    sync.WaitGroup
		slots = make(chan struct{}, pushParallel)
	)
	for _, t := range ts {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			n, err := m.app.Push(ctx, t, f)
			total.Add(int64(n))
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	n := int(total.Load())
	if err := errors.Join(errs...); err != nil {
		return nil, &partial{n: n, err: err}
	}
	return delivered{Delivered: n}, nil
}

// disconnected is the answer of /api/disconnect/user.
type disconnected struct {
	ID           string `json:"id"`
	Disconnected int    `json:"disconnected"`
	Delivered    int    `json:"delivered"` // the same count, named as for the send calls
}

// POST /api/disconnect/user {id, type?}: close that user's connections, on
// every node, with 1008.
func (m *Manager) disconnectUser(r *http.Request) (any, error) {
	in := readBody(r)
	id, typ := in.id("id", true), in.userType("type")
	if err := in.done(); err != nil {
		return nil, err
	}
	n, err := m.app.DisconnectUser(r.Context(), typ, id, CloseKicked)
	if err != nil {
		return nil, &partial{n: n, err: err}
	}
	return disconnected{ID: id, Disconnected: n, Delivered: n}, nil
}
