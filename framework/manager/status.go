package manager

import (
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"msgo/framework"
)

// status is the answer of /api/status. Counts at the top level are this
// node's; cluster holds the cluster-wide ones.
type status struct {
	NodeID      string                 `json:"node_id"`
	Version     string                 `json:"version"`
	GoVersion   string                 `json:"go_version"`
	PID         int                    `json:"pid"`
	Started     int64                  `json:"started"` // unix seconds
	Uptime      int64                  `json:"uptime"`  // seconds
	Draining    bool                   `json:"draining"`
	Connections int                    `json:"connections"`
	Users       int                    `json:"users"` // distinct users (type and id)
	Rooms       int                    `json:"rooms"` // groups with a member here
	Goroutines  int                    `json:"goroutines"`
	Memory      memory                 `json:"memory"`
	Cluster     *clusterCounts         `json:"cluster"` // null when the store did not answer
	Nodes       []framework.NodeStatus `json:"nodes"`
	// ClusterError says why cluster and nodes are missing. Status still
	// answers 200 without the store: it is what an operator looks at then.
	ClusterError string `json:"cluster_error,omitempty"`
}

type clusterCounts struct {
	Nodes       int `json:"nodes"`
	Connections int `json:"connections"` // other nodes' as of their last heartbeat
	Users       int `json:"users"`
}

// memory is in bytes.
type memory struct {
	Sys       uint64 `json:"sys"`        // obtained from the OS by the Go runtime
	HeapAlloc uint64 `json:"heap_alloc"` // live heap objects
	RSS       uint64 `json:"rss"`        // resident set size; 0 where /proc is missing
}

// GET /api/status
func (m *Manager) status(r *http.Request) (any, error) {
	if err := readQuery(r).done(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	started := m.node.Started()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := status{
		NodeID:      m.node.NodeID(),
		Version:     m.version,
		GoVersion:   runtime.Version(),
		PID:         os.Getpid(),
		Started:     started.Unix(),
		Uptime:      int64(time.Since(started).Seconds()),
		Draining:    m.node.Draining(),
		Connections: m.node.Connections(),
		Users:       m.app.LocalUsers(),
		Rooms:       m.app.LocalGroups(),
		Goroutines:  runtime.NumGoroutine(),
		Memory:      memory{Sys: ms.Sys, HeapAlloc: ms.HeapAlloc, RSS: rss()},
		Nodes:       []framework.NodeStatus{},
	}
	nodes, err := m.app.Nodes(ctx)
	if err == nil {
		var cc clusterCounts
		cc.Connections, cc.Users, err = m.app.OnlineCount(ctx)
		cc.Nodes = len(nodes)
		if err == nil {
			s.Cluster, s.Nodes = &cc, nodes
		}
	}
	if err != nil {
		s.ClusterError = err.Error()
	}
	return s, nil
}

// rss reads the resident set size from /proc/self/statm (Linux).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// GET /api/online/count: connections and distinct users, cluster-wide.
func (m *Manager) onlineCount(r *http.Request) (any, error) {
	if err := readQuery(r).done(); err != nil {
		return nil, err
	}
	conns, users, err := m.app.OnlineCount(r.Context())
	if err != nil {
		return nil, err
	}
	return struct {
		Connections int `json:"connections"`
		Users       int `json:"users"`
	}{conns, users}, nil
}

// GET /api/online/users?type=: each online user once, however many devices.
func (m *Manager) onlineUsers(r *http.Request) (any, error) {
	in := readQuery(r)
	typ := in.userType("type")
	if err := in.done(); err != nil {
		return nil, err
	}
	users, err := m.app.OnlineUsers(r.Context(), typ)
	if err != nil {
		return nil, err
	}
	return struct {
		Users []framework.UserRef `json:"users"`
		Count int                 `json:"count"`
	}{users, len(users)}, nil
}

// GET /api/online/check?id=&type=
func (m *Manager) onlineCheck(r *http.Request) (any, error) {
	in := readQuery(r)
	id, typ := in.id("id", true), in.userType("type")
	if err := in.done(); err != nil {
		return nil, err
	}
	on, err := m.app.IsOnline(r.Context(), typ, id)
	if err != nil {
		return nil, err
	}
	return struct {
		ID       string `json:"id"`
		IsOnline bool   `json:"is_online"`
	}{id, on}, nil
}
