package web_test

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"msgo/framework"
)

// testRoutes are methods the SDK tests drive the real node with: a stream
// shaped like kefu.bot.ask, closes with a chosen code, a slow handler and a
// push to oneself. They are registered on a real msgotest node, beside
// app/index; nothing on the wire is faked.
func testRoutes(r *framework.Router) {
	r.Handle("sdktest.stream.chunks", streamChunks)
	r.Handle("sdktest.conn.close", closeSelf)
	r.Handle("sdktest.user.close", closeUser)
	r.Handle("sdktest.slow.sleep", sleepThenReply)
	r.Handle("sdktest.push.self", pushSelf)
	r.Handle("sdktest.push.later", pushLater)
	r.Handle("sdktest.conn.id", connID)
	l := &appliedLog{byUser: map[string][]string{}}
	r.Handle("sdktest.log.add", l.add)
	r.Handle("sdktest.log.get", l.get)
}

// pushLater pushes sdktest.tick {i} to the caller's connection count times,
// gap_ms apart, from the background: pushes that land while the client's
// network is down test what a session keeps. With to_user it pushes to
// every connection of the caller's user instead, so a new connection of
// the user gets them too.
func pushLater(c *framework.Context) error {
	var p struct {
		Count  int  `json:"count"`
		GapMS  int  `json:"gap_ms"`
		ToUser bool `json:"to_user"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	app, conn, who := c.App(), c.Client().ID(), c.Client().Identity()
	send := func(i int) error {
		param := map[string]int{"i": i}
		if !p.ToUser {
			return app.SendSuccess(conn, "sdktest.tick", "", param)
		}
		f, err := framework.NewFrame(framework.Message{Status: 200, Event: "sdktest.tick", Param: param})
		if err != nil {
			return err
		}
		return app.SendToUser(context.Background(), who.Type, who.ID, f)
	}
	go func() {
		for i := range p.Count {
			time.Sleep(time.Duration(p.GapMS) * time.Millisecond)
			if send(i) != nil {
				return
			}
		}
	}()
	return c.Success("scheduled", nil)
}

// connID answers the caller's connection id.
func connID(c *framework.Context) error {
	return c.Success("", map[string]framework.ConnID{"conn": c.Client().ID()})
}

// appliedLog records, per user, every value sdktest.log.add applied, so a
// test can tell a request applied once from one applied twice or never.
type appliedLog struct {
	mu     sync.Mutex
	byUser map[string][]string
}

func (l *appliedLog) add(c *framework.Context) error {
	var p struct {
		V string `json:"v"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	u := c.Client().Identity().ID
	l.byUser[u] = append(l.byUser[u], p.V)
	return c.Success("", map[string]int{"n": len(l.byUser[u])})
}

func (l *appliedLog) get(c *framework.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return c.Success("", map[string][]string{"values": append([]string{}, l.byUser[c.Client().Identity().ID]...)})
}

type chunk struct {
	SessionID string `json:"session_id"`
	Message   string `json:"message"`
	Complete  bool   `json:"complete"`
}

// streamChunks answers like kefu.bot.ask: one frame per part with the
// request's id and complete false, then one with complete true. ack_first
// sends a plain 200 reply before the chunks; fail_after ends with a 500 after
// that many chunks instead of completing.
func streamChunks(c *framework.Context) error {
	var p struct {
		Parts     []string `json:"parts"`
		SessionID string   `json:"session_id"`
		AckFirst  bool     `json:"ack_first"`
		FailAfter int      `json:"fail_after"`
		GapMS     int      `json:"gap_ms"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	id := append(json.RawMessage(nil), c.ID()...)
	conn := c.Client().ID()
	send := func(ch chunk) error {
		f, err := framework.NewFrame(framework.Message{Status: 200, Event: "sdktest.stream", Param: ch, ID: id})
		if err != nil {
			return err
		}
		return c.App().Send(conn, f)
	}
	if p.AckFirst {
		if err := c.Success("streaming", nil); err != nil {
			return err
		}
	}
	for i, part := range p.Parts {
		if p.FailAfter > 0 && i == p.FailAfter {
			return framework.Errorf(500, "stream broke")
		}
		if p.GapMS > 0 {
			time.Sleep(time.Duration(p.GapMS) * time.Millisecond)
		}
		if err := send(chunk{SessionID: p.SessionID, Message: part}); err != nil {
			return err
		}
	}
	return send(chunk{SessionID: p.SessionID, Complete: true})
}

// closeSelf replies, then closes the caller's connection with code and reason.
func closeSelf(c *framework.Context) error {
	var p struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	if err := c.Success("closing", nil); err != nil {
		return err
	}
	return c.App().Close(c.Client().ID(), p.Code, p.Reason)
}

// closeUser closes every connection of a user, as the manager's
// /api/disconnect/user does, from another connection's request.
func closeUser(c *framework.Context) error {
	var p struct {
		ID   string `json:"user"`
		Type string `json:"type"`
		Code int    `json:"code"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	n, err := c.App().DisconnectUser(c.Context(), p.Type, p.ID, p.Code)
	if err != nil {
		return err
	}
	return c.Success("closed", map[string]int{"closed": n})
}

func sleepThenReply(c *framework.Context) error {
	var p struct {
		MS int `json:"ms"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	time.Sleep(time.Duration(p.MS) * time.Millisecond)
	return c.Success("slept", map[string]int{"ms": p.MS})
}

// pushSelf pushes {event, param} to the caller, as a push (no id).
func pushSelf(c *framework.Context) error {
	var p struct {
		Event string          `json:"event"`
		Param json.RawMessage `json:"param"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	if len(p.Param) == 0 {
		p.Param = json.RawMessage("{}")
	}
	if err := c.App().SendSuccess(c.Client().ID(), p.Event, "", p.Param); err != nil {
		return err
	}
	return c.Success("pushed", nil)
}
