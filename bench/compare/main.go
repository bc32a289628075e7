// Command compare runs msgo beside the comparison hubs (gorilla/websocket,
// nbio, gws) and the C floor server, with the same client (`msgo bench`)
// for every server, medians of --runs, and prints one table with msgo's
// ratios to the best peer and to the floor.
//
//	cd bench && go run ./compare                # every scenario, medians of 3
//	cd bench && go run ./compare -quick         # seconds: a smoke test
//	cd bench && go run ./compare -only rpc,joins -servers floor,gws,msgo
//
// Each server is started fresh for each scenario on loopback ports, sampled
// from /proc by the client (--pid), and stopped afterwards. The floor is
// built with cc when there is one, and left out otherwise.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const secret = "compare-secret"

// The servers' ports: free ones, picked at start, so a smoke run beside
// other tests collides with nothing.
var wsAddr, mgrAddr = freeAddr(), freeAddr()

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// scenario is one `msgo bench` run and the figures the table shows of it.
type scenario struct {
	name    string
	args    []string
	figures []figure
}

// figure is one median figure; lower says whether less is better.
type figure struct {
	key, label string
	lower      bool
}

func scenarios(quick bool) []scenario {
	joins, rpcConns, fanConns, memConns := "10000", "200", "5000", "19000"
	rpcDur, fanDur, hold, drain := "10s", "10s", "5s", "5s"
	if quick {
		joins, rpcConns, fanConns, memConns = "200", "20", "100", "200"
		rpcDur, fanDur, hold, drain = "1s", "1s", "1s", "1s"
	}
	return []scenario{
		{"joins", []string{"connect-rate", "--join", "--room-size", "0", "--conns", joins}, []figure{
			{"connects_per_s", "connects/s, all joining one room", false},
			{"server_cpu_us_per_connect", "server CPU µs per connect+join", true}}},
		{"rpc", []string{"rpc", "--conns", rpcConns, "--duration", rpcDur}, []figure{
			{"requests_per_s", "rpc req/s", false},
			{"p99_ms", "rpc p99 ms", true},
			{"server_cpu_us_per_request", "server CPU µs per request", true}}},
		{"fanout5", []string{"fanout", "--conns", fanConns, "--rate", "5", "--duration", fanDur, "--drain", drain}, []figure{
			{"p99_ms", "room 5/s: p99 ms", true},
			{"server_cpu_us_per_delivery", "room 5/s: server CPU µs per delivery", true}}},
		{"fanout50", []string{"fanout", "--conns", fanConns, "--rate", "50", "--duration", fanDur, "--drain", drain}, []figure{
			{"deliveries_per_s", "room 50/s: deliveries/s", false},
			{"p99_ms", "room 50/s: p99 ms", true},
			{"server_cpu_us_per_delivery", "room 50/s: server CPU µs per delivery", true}}},
		{"memory", []string{"conns", "--join", "--room-size", "0", "--conns", memConns, "--duration", hold}, []figure{
			{"server_rss_per_conn_kib", "RSS KiB per joined idle connection", true}}},
	}
}

// server is how to start one of the compared servers.
type server struct {
	name string
	cmd  func(bin string) *exec.Cmd
}

func servers(bin string) []server {
	peer := func(name string) server {
		return server{name, func(bin string) *exec.Cmd {
			return exec.Command(filepath.Join(bin, name), "-addr", wsAddr, "-manager", mgrAddr)
		}}
	}
	return []server{
		{"floor", func(bin string) *exec.Cmd {
			_, wp, _ := net.SplitHostPort(wsAddr)
			_, mp, _ := net.SplitHostPort(mgrAddr)
			return exec.Command(filepath.Join(bin, "floor"), wp, mp)
		}},
		peer("gorillahub"), peer("nbiohub"), peer("gwshub"),
		{"msgo", func(bin string) *exec.Cmd {
			c := exec.Command(filepath.Join(bin, "msgo"), "start")
			c.Env = append(os.Environ(),
				"MSGO_OUTSIDE_LISTEN="+wsAddr, "MSGO_MANAGER_LISTEN="+mgrAddr, "MSGO_AUTH_SECRET="+secret,
				"MSGO_OUTSIDE_RATE_LIMIT=1000000", "MSGO_RUNTIME_DIR="+filepath.Join(bin, "runtime"),
				"MSGO_MANAGER_TOKEN=", "MSGO_CACHE_DRIVER=memory", "MSGO_DB_DRIVER=sqlite")
			return c
		}},
	}
}

func main() {
	runs := flag.Int("runs", 3, "runs per scenario and server (the table shows medians)")
	quick := flag.Bool("quick", false, "small and short: checks that every server answers every scenario")
	only := flag.String("only", "", "comma-separated scenarios (joins,rpc,fanout5,fanout50,memory); empty: all")
	names := flag.String("servers", "", "comma-separated servers (floor,gorillahub,nbiohub,gwshub,msgo); empty: all")
	bin := flag.String("bin", "", "directory for the built binaries (default: a temporary one)")
	flag.Parse()
	if err := run(*runs, *quick, *only, *names, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run(runs int, quick bool, only, names, bin string) error {
	if bin == "" {
		d, err := os.MkdirTemp("", "msgo-compare-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		bin = d
	}
	// Children inherit an explicitly raised limit (Go restores the
	// original one in children of a process that did not set it itself).
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	avail, err := build(bin)
	if err != nil {
		return err
	}
	var srvs []server
	for _, s := range servers(bin) {
		if avail[s.name] && (names == "" || slices.Contains(strings.Split(names, ","), s.name)) {
			srvs = append(srvs, s)
		}
	}
	var scs []scenario
	for _, sc := range scenarios(quick) {
		if only == "" || slices.Contains(strings.Split(only, ","), sc.name) {
			scs = append(scs, sc)
		}
	}
	results := map[string]map[string]map[string]float64{} // scenario -> server -> figure
	failed := 0
	for _, sc := range scs {
		results[sc.name] = map[string]map[string]float64{}
		for _, s := range srvs {
			fmt.Fprintf(os.Stderr, "== %s on %s\n", sc.name, s.name)
			figs, err := measure(bin, s, sc, runs)
			if err != nil {
				fmt.Fprintf(os.Stderr, "   %s on %s: %v\n", sc.name, s.name, err)
				failed++
				continue
			}
			results[sc.name][s.name] = figs
		}
	}
	printTable(os.Stdout, scs, srvs, results)
	if quick && failed > 0 {
		return fmt.Errorf("%d scenario runs failed", failed)
	}
	return nil
}

// build compiles msgo, the hubs and the floor into bin and reports which
// servers it has.
func build(bin string) (map[string]bool, error) {
	avail := map[string]bool{}
	goBuild := func(dir, out string, pkgs ...string) error {
		c := exec.Command("go", append([]string{"build", "-o", out}, pkgs...)...)
		c.Dir, c.Stdout, c.Stderr = dir, os.Stderr, os.Stderr
		return c.Run()
	}
	if err := goBuild("..", filepath.Join(bin, "msgo"), "./console"); err != nil {
		return nil, fmt.Errorf("build msgo: %w", err)
	}
	avail["msgo"] = true
	if err := goBuild(".", bin+"/", "./cmd/..."); err != nil {
		return nil, fmt.Errorf("build hubs: %w", err)
	}
	avail["gorillahub"], avail["nbiohub"], avail["gwshub"] = true, true, true
	if cc, err := exec.LookPath("cc"); err == nil {
		c := exec.Command(cc, "-O2", "-o", filepath.Join(bin, "floor"), "floor/floor.c")
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Run(); err != nil {
			return nil, fmt.Errorf("build floor: %w", err)
		}
		avail["floor"] = true
	} else {
		fmt.Fprintln(os.Stderr, "compare: no cc, the floor is left out")
	}
	return avail, nil
}

// measure starts s, runs sc against it, stops it, and returns the median
// figures.
func measure(bin string, s server, sc scenario, runs int) (map[string]float64, error) {
	srv := s.cmd(bin)
	logf, err := os.Create(filepath.Join(bin, s.name+".log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		return nil, err
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			srv.Process.Kill()
			<-done
		}
	}()
	if err := waitListening(wsAddr, 15*time.Second); err != nil {
		return nil, fmt.Errorf("%s did not listen: %w", s.name, err)
	}
	args := append([]string{"bench"}, sc.args...)
	args = append(args, "--url", "ws://"+wsAddr+"/ws", "--secret", secret, "--pid", strconv.Itoa(srv.Process.Pid),
		"--runs", strconv.Itoa(runs), "--json")
	if sc.args[0] == "fanout" {
		args = append(args, "--manager", "http://"+mgrAddr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(runs)*3*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, filepath.Join(bin, "msgo"), args...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, os.Stderr
	if err := c.Run(); err != nil {
		return nil, err
	}
	return lastFigures(out.Bytes())
}

// lastFigures returns the figures of the last JSON line: the median when
// there were several runs.
func lastFigures(out []byte) (map[string]float64, error) {
	var figs map[string]float64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var line struct{ Figures map[string]float64 }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Figures != nil {
			figs = line.Figures
		}
	}
	if figs == nil {
		return nil, errors.New("no result line")
	}
	return figs, nil
}

func waitListening(addr string, d time.Duration) error {
	end := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(end) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// printTable prints one markdown row per figure: every server, then msgo
// over the best peer and over the floor (for a lower-is-better figure, a
// ratio under 1 is msgo ahead; for the others, over 1).
func printTable(w *os.File, scs []scenario, srvs []server, res map[string]map[string]map[string]float64) {
	fmt.Fprint(w, "| figure |")
	for _, s := range srvs {
		fmt.Fprintf(w, " %s |", s.name)
	}
	fmt.Fprintln(w, " msgo/best peer | msgo/floor |")
	fmt.Fprint(w, "|---|")
	for range srvs {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w, "---|---|")
	for _, sc := range scs {
		for _, f := range sc.figures {
			fmt.Fprintf(w, "| %s |", f.label)
			best := math.NaN()
			for _, s := range srvs {
				v, ok := res[sc.name][s.name][f.key]
				if !ok {
					fmt.Fprint(w, " – |")
					continue
				}
				fmt.Fprintf(w, " %s |", format(v))
				if s.name == "floor" || s.name == "msgo" {
					continue
				}
				if math.IsNaN(best) || (f.lower && v < best) || (!f.lower && v > best) {
					best = v
				}
			}
			m, mok := res[sc.name]["msgo"][f.key]
			fl, fok := res[sc.name]["floor"][f.key]
			fmt.Fprintf(w, " %s | %s |\n", ratio(m, best, mok), ratio(m, fl, mok && fok))
		}
	}
}

func ratio(a, b float64, ok bool) string {
	if !ok || math.IsNaN(b) || b == 0 {
		return "–"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "x"
}

func format(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}
