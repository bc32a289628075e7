package bench

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"msgo/library/encrypt"
)

// Command returns `bench` with its scenarios as subcommands.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load generator for the msgo protocol (loopback only)",
		Long: `Load generator for the msgo protocol: it mints its own tokens from the
secret, spreads its clients over loopback source addresses (127.0.0.2 and up),
samples the server's RSS and CPU from /proc when given --pid, prints a
progress line on stderr each second, and ends with a table and one JSON line
per run on stdout.

It refuses any non-loopback target. The client needs one file descriptor per
connection, as does the server: run them as separate processes (with a limit
of 20,000 open files, 19,000 connections fit in each, not in one).`,
	}
	cmd.AddCommand(connsCommand(), connectRateCommand(), fanoutCommand(), rpcCommand(), clusterCommand(), backendCommand())
	return cmd
}

// scenario performs one run.
type scenario func(ctx context.Context, e *env) (result, error)

// subcommand builds a scenario's command around its default options.
func subcommand(use, short, long string, o *options, extra flagSet, run scenario) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true // from here on, errors are about the run, not the flags
			return execute(cmd, o, use, extra, run)
		},
	}
	o.register(cmd.Flags(), extra)
	return cmd
}

// env is what every run of a scenario shares: resolved flags, the token
// codec, the dialer and the sampled processes.
type env struct {
	o         *options
	stderr    io.Writer
	codec     *encrypt.Codec
	endpoints []endpoint
	dialer    *dialer
	procs     procs
	manager   *managerClient // nil unless the scenario pushes
	tag       string         // random, in every user id, so runs never share users
}

func newEnv(cmd *cobra.Command, o *options, extra flagSet) (*env, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if lim, ok := fdLimit(); ok && uint64(o.conns)+fdReserve > lim {
		return nil, fmt.Errorf("--conns %d needs %d open files but the limit is %d: the client needs one per connection, as does the server, so run them as separate processes, or lower --conns",
			o.conns, o.conns+fdReserve, lim)
	}
	secret, err := o.resolveSecret()
	if err != nil {
		return nil, err
	}
	e := &env{o: o, stderr: cmd.ErrOrStderr(), codec: encrypt.New(secret, 24*time.Hour), procs: o.pids, tag: randomTag()}
	urls := strings.Split(o.url, ",")
	if len(urls) > 1 && extra&flagNodes == 0 {
		return nil, errors.New("--url takes one URL here; only cluster takes several")
	}
	for i, raw := range urls {
		u, ip, err := loopbackURL(strings.TrimSpace(raw), "ws")
		if err != nil {
			return nil, err
		}
		e.endpoints = append(e.endpoints, endpoint{url: u.String()})
		if i == 0 { // every endpoint is on loopback, so one set of sources serves all
			e.dialer = &dialer{sources: o.sourceIPs(ip, o.conns), timeout: 10 * time.Second, readBuf: o.readBuffer}
		}
	}
	if extra&flagManager != 0 {
		u, _, err := loopbackURL(o.manager, "http")
		if err != nil {
			return nil, err
		}
		e.manager = newManagerClient(u.String(), cmp.Or(o.managerToken, os.Getenv("MSGO_MANAGER_TOKEN")), o.pushWorkers)
	}
	if len(e.procs) > 0 {
		if _, err := e.procs.sample(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (e *env) close() {
	if e.manager != nil {
		e.manager.close()
	}
}

// tokens mints a token per connection before the clock starts, so minting
// costs nothing during the measurement.
func (e *env) tokens(n int, claims func(i int) encrypt.Claims) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		t, err := e.codec.Mint(claims(i))
		if err != nil {
			return nil, fmt.Errorf("mint token: %w", err)
		}
		out[i] = t
	}
	return out, nil
}

// userID is connection i's user id in this process.
func (e *env) userID(i int) string { return "bench-" + e.tag + "-" + strconv.Itoa(i) }

// sample reads the server's use (when --pid was given) and the bench's own.
func (e *env) sample() (usage, error) {
	u := usage{at: time.Now()}
	if len(e.procs) > 0 {
		var err error
		if u, err = e.procs.sample(); err != nil {
			return u, err
		}
		u.server = true
	}
	u.clientTicks, _ = cpuTicks(os.Getpid()) // best effort: only a figure
	return u, nil
}

// addCPUFigures adds, between two samples, server CPU (µs per unit of work,
// and percent of one core) and RSS when the server was sampled, and the
// bench's own CPU: on a machine the two share, a client near its limit is
// what bounds the figures.
func addCPUFigures(r *result, a, b usage, unit string, work int64) {
	d := float64(b.at.Sub(a.at).Microseconds())
	if a.server && b.server {
		cpu := cpuMicros(a, b)
		if work > 0 {
			r.add("server_cpu_us_per_"+unit, cpu/float64(work))
		}
		if d > 0 {
			r.add("server_cpu_pct", cpu/d*100)
		}
		r.add("server_rss_mib", float64(b.rssKiB)/1024)
	}
	if d > 0 {
		r.add("client_cpu_pct", float64(b.clientTicks-a.clientTicks)*1e6/clockTicks/d*100)
	}
}

// execute runs the scenario --runs times and prints the table and JSON lines.
func execute(cmd *cobra.Command, o *options, name string, extra flagSet, run scenario) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e, err := newEnv(cmd, o, extra)
	if err != nil {
		return err
	}
	defer e.close()
	if o.cpuProfile != "" {
		stopProfile, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	var runs []result
	for i := 1; i <= o.runs; i++ {
		r, err := run(ctx, e)
		if err != nil {
			return fmt.Errorf("%s run %d: %w", name, i, err)
		}
		r.run = strconv.Itoa(i)
		runs = append(runs, r)
		if i < o.runs && !sleep(ctx, o.pause) {
			break
		}
	}
	if len(runs) == 0 {
		return ctx.Err()
	}
	out := cmd.OutOrStdout()
	if !o.jsonOnly {
		printTable(out, runs)
	}
	if len(runs) > 1 {
		runs = append(runs, median(runs))
	}
	for _, r := range runs {
		b, _ := json.Marshal(r)
		fmt.Fprintf(out, "%s\n", b)
	}
	return nil
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func randomTag() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startCPUProfile profiles the client itself, to show whether the load
// generator, not the server, is what a figure is limited by.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
