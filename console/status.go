package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func statusCmd(configDir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the running msgo's pid, uptime, connections and cluster; exit 1 when it is not running",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, pid, err := running(*configDir)
			if err != nil {
				return err
			}
			req, _ := http.NewRequest("GET", "http://"+loopbackHost(cfg.Manager.Listen)+"/api/status", nil)
			if cfg.Manager.Token != "" {
				req.Header.Set("Authorization", "Bearer "+cfg.Manager.Token)
			}
			c := &http.Client{Timeout: 5 * time.Second}
			resp, err := c.Do(req)
			if err != nil {
				return fmt.Errorf("pid %d is running but its manager port does not answer: %w", pid, err)
			}
			defer resp.Body.Close()
			var body struct {
				Code    int            `json:"code"`
				Message string         `json:"message"`
				Data    map[string]any `json:"data"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Code != 200 {
				return fmt.Errorf("manager port answered %s: %s", resp.Status, body.Message)
			}
			printStatus(body.Data)
			return nil
		},
	}
}

// printStatus prints the status as a two-column table, nodes last.
func printStatus(d map[string]any) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	defer w.Flush()
	order := []string{"pid", "node_id", "version", "uptime", "connections", "users", "rooms", "goroutines", "memory"}
	seen := map[string]bool{}
	for _, k := range order {
		if v, ok := d[k]; ok {
			fmt.Fprintf(w, "%s\t%v\n", k, format(v))
			seen[k] = true
		}
	}
	var rest []string
	for k := range d {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		fmt.Fprintf(w, "%s\t%v\n", k, format(d[k]))
	}
}

func format(v any) string {
	switch x := v.(type) {
	case float64:
		return fmt.Sprintf("%.0f", x)
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}
