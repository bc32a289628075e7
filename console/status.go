package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"msgo/config"
)

func statusCmd(configDir *string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the running msgo's pid, version, uptime, connections, users, rooms and nodes; exit 1 when it is not running",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, pid, err := running(*configDir)
			if err != nil {
				return err
			}
			raw, err := fetchStatus(cfg, pid)
			if err != nil {
				return err
			}
			if asJSON {
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s\n", raw)
				return err
			}
			var st nodeStatus
			if err := json.Unmarshal(raw, &st); err != nil {
				return fmt.Errorf("read the manager's status: %w", err)
			}
			return printStatus(cmd.OutOrStdout(), st, time.Now())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the manager's /api/status answer (its data object) as one JSON line, for scripts")
	return cmd
}

// fetchStatus asks the manager port of the msgo running as pid for its
// status and returns the answer's data. Errors say what to check.
func fetchStatus(cfg *config.Config, pid int) (json.RawMessage, error) {
	addr := loopbackHost(cfg.Manager.Listen)
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/api/status", nil)
	if err != nil {
		return nil, err
	}
	if cfg.Manager.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Manager.Token)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		return nil, fmt.Errorf("msgo (pid %d) is running but its manager port %s does not answer (%v); "+
			"check manager.listen (MSGO_MANAGER_LISTEN) is the same as the running node's", pid, addr, err)
	}
	defer resp.Body.Close()
	var body struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("the manager port %s answered %s, not msgo's JSON: %w", addr, resp.Status, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("the manager port %s refused the token; set MSGO_MANAGER_TOKEN (manager.token) to the running node's token", addr)
	case body.Code != http.StatusOK:
		return nil, fmt.Errorf("the manager port %s answered %s: %s", addr, resp.Status, body.Message)
	}
	return body.Data, nil
}

// nodeStatus is the part of /api/status the table shows.
type nodeStatus struct {
	NodeID      string `json:"node_id"`
	Version     string `json:"version"`
	GoVersion   string `json:"go_version"`
	PID         int    `json:"pid"`
	Uptime      int64  `json:"uptime"`
	Draining    bool   `json:"draining"`
	Connections int    `json:"connections"`
	Users       int    `json:"users"`
	Rooms       int    `json:"rooms"`
	Goroutines  int    `json:"goroutines"`
	Memory      struct {
		HeapAlloc uint64 `json:"heap_alloc"`
		RSS       uint64 `json:"rss"`
	} `json:"memory"`
	Cluster *struct {
		Nodes       int `json:"nodes"`
		Connections int `json:"connections"`
		Users       int `json:"users"`
	} `json:"cluster"`
	Nodes []struct {
		ID          string `json:"id"`
		Connections int    `json:"connections"`
		Started     int64  `json:"started"`
	} `json:"nodes"`
	ClusterError string `json:"cluster_error"`
}

// printStatus writes st as a table: this node, then the cluster's nodes
// with their ages (time since each started) as of now.
func printStatus(out io.Writer, st nodeStatus, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	state := "running"
	if st.Draining {
		state = "draining (stopping or handing over to a reload)"
	}
	fmt.Fprintf(w, "msgo\t%s\n", state)
	fmt.Fprintf(w, "pid\t%d\n", st.PID)
	fmt.Fprintf(w, "node\t%s\n", st.NodeID)
	fmt.Fprintf(w, "version\t%s (%s)\n", st.Version, st.GoVersion)
	fmt.Fprintf(w, "uptime\t%s\n", seconds(st.Uptime))
	if c := st.Cluster; c != nil {
		fmt.Fprintf(w, "connections\t%d here, %d in the cluster\n", st.Connections, c.Connections)
		fmt.Fprintf(w, "users\t%d here, %d in the cluster\n", st.Users, c.Users)
	} else {
		fmt.Fprintf(w, "connections\t%d here\n", st.Connections)
		fmt.Fprintf(w, "users\t%d here\n", st.Users)
	}
	fmt.Fprintf(w, "rooms\t%d here\n", st.Rooms)
	fmt.Fprintf(w, "goroutines\t%d\n", st.Goroutines)
	fmt.Fprintf(w, "memory\t%s RSS, %s heap\n", mib(st.Memory.RSS), mib(st.Memory.HeapAlloc))
	if st.ClusterError != "" {
		fmt.Fprintf(w, "cluster\tunknown: the store does not answer (%s)\n", st.ClusterError)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(st.Nodes) == 0 {
		return nil
	}
	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NODE\tCONNECTIONS\tAGE\t")
	for _, n := range st.Nodes {
		me := ""
		if n.ID == st.NodeID {
			me = "(this node)"
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", n.ID, n.Connections, seconds(int64(now.Sub(time.Unix(n.Started, 0)).Seconds())), me)
	}
	return w.Flush()
}

// seconds formats a count of seconds as a duration: 3h12m5s.
func seconds(s int64) string { return (time.Duration(max(s, 0)) * time.Second).String() }

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// notRunning is the error of a command that needs a running msgo; it says
// why and what to do.
func notRunning(why string) error {
	return fmt.Errorf("%w (%s); start it with msgo start -d", errNotRunning, why)
}
