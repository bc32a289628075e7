package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"msgo/config"
)

// Defaults shared by the scenarios.
const (
	DefaultURL        = "ws://127.0.0.1:9501/ws"
	DefaultManager    = "http://127.0.0.1:9502"
	DefaultReadBuffer = 1024
	// connsPerSource is how many connections one source address carries
	// when --sources is 0. The ephemeral range holds about 28,000 ports, but
	// connect() searches the even half first (Linux 4.6 and later) and grows
	// slow, in system time, as that half fills: keep below it.
	connsPerSource = 10000
	// fdReserve is what the client keeps for itself besides connections:
	// stdio, the manager's HTTP connections, /proc reads.
	fdReserve = 100
)

// options are one subcommand's flags.
type options struct {
	url          string
	manager      string
	managerToken string
	managerNode  int
	secret       string
	runtimeDir   string
	pids         []int
	duration     time.Duration
	conns        int
	concurrency  int
	sources      int
	room         string
	roomSize     int
	rate         float64
	join         bool
	userType     string
	method       string
	pushWorkers  int
	drain        time.Duration
	timeout      time.Duration
	readBuffer   int
	runs         int
	pause        time.Duration
	jsonOnly     bool
	cpuProfile   string
}

// flagSet names the flags a scenario takes beyond the common ones.
type flagSet uint

const (
	flagManager flagSet = 1 << iota
	flagRoom
	flagRate
	flagJoin
	flagNodes    // --url lists several nodes
	flagDuration // the scenario runs for a time
)

// register adds the common flags and those in extra to fs.
func (o *options) register(fs *pflag.FlagSet, extra flagSet) {
	runtimeDir := os.Getenv("MSGO_RUNTIME_DIR")
	if runtimeDir == "" {
		runtimeDir = "runtime"
	}
	urlHelp := "server WebSocket URL (loopback only)"
	if extra&flagNodes != 0 {
		urlHelp = "the nodes' WebSocket URLs, comma-separated (loopback only)"
	}
	fs.StringVar(&o.url, "url", DefaultURL, urlHelp)
	fs.StringVar(&o.secret, "secret", "", "auth secret to mint tokens with (default: $MSGO_AUTH_SECRET, else <runtime-dir>/secret)")
	fs.StringVar(&o.runtimeDir, "runtime-dir", runtimeDir, "the server's runtime directory, where its generated secret is")
	fs.IntSliceVar(&o.pids, "pid", nil, "server pid(s) to sample RSS and CPU from /proc")
	fs.IntVar(&o.conns, "conns", o.conns, "connections")
	fs.IntVar(&o.concurrency, "concurrency", o.concurrency, "concurrent dialers")
	fs.IntVar(&o.sources, "sources", 0, fmt.Sprintf("loopback source addresses 127.0.0.2 and up to spread connections over (0: one per %d connections)", connsPerSource))
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "bound on setting up the connections")
	fs.IntVar(&o.readBuffer, "read-buffer", DefaultReadBuffer, "client read buffer per connection, bytes")
	fs.IntVar(&o.runs, "runs", 1, "how many times to run the scenario (the table adds the median)")
	fs.DurationVar(&o.pause, "pause", 2*time.Second, "pause between runs, for the server to finish the last run's closes")
	fs.BoolVar(&o.jsonOnly, "json", false, "print only the JSON line(s) on stdout")
	fs.StringVar(&o.cpuProfile, "client-cpuprofile", "", "write the bench client's own CPU profile to this file")
	if extra&flagDuration != 0 {
		fs.DurationVar(&o.duration, "duration", o.duration, "how long to measure (conns: how long to hold)")
	}
	if extra&flagManager != 0 {
		fs.StringVar(&o.manager, "manager", DefaultManager, "manager port URL (loopback only)")
		// The default is resolved at run time, so help never prints a token.
		fs.StringVar(&o.managerToken, "manager-token", "", "manager bearer token (default $MSGO_MANAGER_TOKEN)")
		fs.IntVar(&o.pushWorkers, "push-workers", o.pushWorkers, "concurrent calls to the manager")
		fs.DurationVar(&o.drain, "drain", 10*time.Second, "how long to wait for deliveries after the last push")
	}
	if extra&flagRoom != 0 {
		fs.StringVar(&o.room, "room", "bench", "room code of the tokens")
	}
	if extra&flagRate != 0 {
		fs.Float64Var(&o.rate, "rate", o.rate, "pushes (sends) per second")
	}
	if extra&flagJoin != 0 {
		fs.BoolVar(&o.join, "join", o.join, "call live.user.join on each connection")
		fs.IntVar(&o.roomSize, "room-size", o.roomSize, "members per room when joining (rooms <room>-0, <room>-1, ...); 0: one room")
	}
}

// validate checks the numbers every scenario relies on.
func (o *options) validate() error {
	switch {
	case o.conns < 1:
		return errors.New("--conns must be at least 1")
	case o.concurrency < 1:
		return errors.New("--concurrency must be at least 1")
	case o.runs < 1 || o.runs > 100:
		return errors.New("--runs must be 1..100")
	case o.sources < 0 || o.sources > 250:
		return errors.New("--sources must be 0..250")
	case o.readBuffer < 64:
		return errors.New("--read-buffer must be at least 64")
	case o.duration < 0 || o.duration > 24*time.Hour:
		return errors.New("--duration must be 0..24h")
	case o.timeout <= 0:
		return errors.New("--timeout must be positive")
	}
	return nil
}

// resolveSecret returns --secret, else $MSGO_AUTH_SECRET, else the secret the
// server generated into its runtime directory.
func (o *options) resolveSecret() (string, error) {
	if o.secret != "" {
		return o.secret, nil
	}
	if s := os.Getenv("MSGO_AUTH_SECRET"); s != "" {
		return s, nil
	}
	path := filepath.Join(o.runtimeDir, config.SecretFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no secret: pass --secret, set MSGO_AUTH_SECRET, or point --runtime-dir at the server's runtime dir (%s does not exist)", path)
	}
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("read secret: %s is empty", path)
	}
	return s, nil
}

// sourceIPs returns the source addresses for n connections to host: none
// unless the target is IPv4 loopback (only 127/8 offers more than one).
func (o *options) sourceIPs(host netip.Addr, n int) []net.IP {
	if !host.Is4() {
		return nil
	}
	k := o.sources
	if k == 0 {
		k = (n + connsPerSource - 1) / connsPerSource
	}
	ips := make([]net.IP, k)
	for i := range ips {
		ips[i] = net.IPv4(127, 0, 0, byte(2+i))
	}
	return ips
}

// loopbackURL parses raw, checks its scheme and that its host is a loopback
// address, and returns it with "localhost" replaced by 127.0.0.1 so that the
// dialer never resolves names.
func loopbackURL(raw string, schemes ...string) (*url.URL, netip.Addr, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("bad URL %q: %w", raw, err)
	}
	okScheme := false
	for _, s := range schemes {
		okScheme = okScheme || u.Scheme == s
	}
	if !okScheme {
		return nil, netip.Addr{}, fmt.Errorf("URL %q: scheme must be %s", raw, strings.Join(schemes, " or "))
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return nil, netip.Addr{}, fmt.Errorf("refusing %q: msgo bench only targets loopback addresses (127.0.0.0/8, ::1)", raw)
	}
	if port := u.Port(); port != "" {
		u.Host = net.JoinHostPort(ip.String(), port)
	} else {
		u.Host = ip.String()
		if ip.Is6() {
			u.Host = "[" + ip.String() + "]"
		}
	}
	return u, ip, nil
}
