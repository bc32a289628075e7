package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// backendCommand is a minimal proxy backend, for measuring the proxy itself:
// /rpc echoes the request's param at once, /connect admits, /disconnect
// takes every event. It counts what it gets each second and, at the end,
// the disconnect events' rate from the first to the last.
func backendCommand() *cobra.Command {
	var listen string
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "backend",
		Short: "A minimal proxy backend answering at once (for proxy.endpoint)",
		Long: `Serves /connect, /rpc and /disconnect on --listen (loopback) as a backend
that does no work: run msgo with proxy.endpoint pointing here, then
` + "`msgo bench rpc --method <a proxied method>`" + ` measures the proxy's own cost.
Prints the calls it got each second, and when it stops (--duration, or
SIGINT) the disconnect events it took per second between the first and the last.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := loopbackOnly(listen); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			return runBackend(ctx, listen, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:9580", "address to serve on (loopback)")
	cmd.Flags().DurationVar(&duration, "duration", 0, "stop after this long (0: at SIGINT)")
	return cmd
}

func loopbackOnly(listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--listen %s: loopback only", listen)
	}
	return nil
}

type backendCounts struct {
	rpc, connect, disconnect atomic.Int64
	mu                       sync.Mutex
	first, last              time.Time // of disconnect events
}

func runBackend(ctx context.Context, listen string, out io.Writer) error {
	var n backendCounts
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/rpc":
			var body struct {
				Param json.RawMessage `json:"param"`
			}
			json.NewDecoder(r.Body).Decode(&body)
			n.rpc.Add(1)
			if len(body.Param) == 0 {
				body.Param = json.RawMessage("{}")
			}
			fmt.Fprintf(w, `{"status":200,"info":"ok","param":%s}`, body.Param)
		case "/disconnect":
			io.Copy(io.Discard, r.Body)
			n.disconnect.Add(1)
			now := time.Now()
			n.mu.Lock()
			if n.first.IsZero() {
				n.first = now
			}
			n.last = now
			n.mu.Unlock()
			io.WriteString(w, `{"status":200}`)
		default:
			io.Copy(io.Discard, r.Body)
			n.connect.Add(1)
			io.WriteString(w, `{"status":200}`)
		}
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintf(out, "backend listening on %s\n", ln.Addr())
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastRPC, lastDisc int64
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			r, d := n.rpc.Load(), n.disconnect.Load()
			if r != lastRPC || d != lastDisc {
				fmt.Fprintf(out, "rpc %d/s disconnect %d/s\n", r-lastRPC, d-lastDisc)
			}
			lastRPC, lastDisc = r, d
		}
	}
	srv.Close()
	n.mu.Lock()
	span := n.last.Sub(n.first)
	n.mu.Unlock()
	fmt.Fprintf(out, "total rpc %d connect %d disconnect %d\n", n.rpc.Load(), n.connect.Load(), n.disconnect.Load())
	if d := n.disconnect.Load(); d > 1 && span > 0 {
		fmt.Fprintf(out, "disconnect events %.0f/s (%d over %s)\n", float64(d-1)/span.Seconds(), d, span.Round(time.Millisecond))
	}
	return nil
}
