package manager_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"msgo/framework/manager"
	"msgo/library/encrypt"
)

// scrape reads /metrics and parses it as the Prometheus text format.
func scrape(t testing.TB, m *api) map[string]*dto.MetricFamily {
	t.Helper()
	ans := m.do(t, http.MethodGet, "/metrics", nil, "Bearer "+m.token)
	if ans.status != http.StatusOK || !strings.HasPrefix(ans.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", ans.status, ans.header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(ans.Data)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// value returns the sample of family name whose labels include labels
// ("k=v" pairs): a counter's or gauge's value, a histogram's count.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			match = match && have[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

func TestMetricsMoveWithTraffic(t *testing.T) {
	srv := startNode(t, "n1", nil)
	m := serve(t, srv, manager.Options{})
	before := scrape(t, m)
	for _, name := range []string{"msgo_connections", "msgo_frames_in_total", "msgo_frames_out_total", "msgo_bytes_in_total",
		"msgo_bytes_out_total", "msgo_slow_consumer_closes_total", "msgo_rate_limited_total", "msgo_bus_publish_errors_total",
		"msgo_store_errors_total", "msgo_dependency_errors_total", "go_goroutines", "process_resident_memory_bytes"} {
		if before[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}

	// Traffic: two good handshakes and a bad token, a 200, a 404 and a 400
	// from clients, a push, and a kick.
	cl := dial(t, srv, "u1", encrypt.TypeWechatUser)
	other := dial(t, srv, "u2", encrypt.TypeWall)
	if _, err := srv.DialURL(srv.URL + "?auth=forged"); err == nil {
		t.Fatal("a forged token was accepted")
	}
	if r := cl.Request(t, "index.index.index", map[string]any{"a": 1}); r.Status != 200 {
		t.Fatalf("echo: %+v", r)
	}
	if r := cl.Request(t, "no.such.method", nil); r.Status != 404 {
		t.Fatalf("unknown method: %+v", r)
	}
	cl.Write(t, []byte(`{"id":9}`))
	cl.AwaitID(t, []byte("9"))
	if n := m.delivered(t, "/api/broadcast", map[string]any{"event": "e", "param": map[string]any{}}); n != 2 {
		t.Fatalf("broadcast delivered %d", n)
	}
	cl.Await(t, "e")
	other.Await(t, "e")
	m.post(t, "/api/disconnect/user", map[string]any{"id": "u2"}, &struct{}{})
	other.AwaitClose(t)

	// In: 2 pings, 3 requests. Out: 2 pongs, 3 replies, 2 pushes.
	grew := func(after map[string]*dto.MetricFamily, name string, by float64, labels ...string) (bool, string) {
		a, b := value(after, name, labels...), value(before, name, labels...)
		return a-b >= by, fmt.Sprintf("%s%v moved %v, want %v", name, labels, a-b, by)
	}
	eventually(t, "metrics", func() (bool, string) {
		after := scrape(t, m)
		for _, c := range []struct {
			name   string
			by     float64
			labels []string
		}{
			{"msgo_handshakes_total", 2, []string{"result=ok"}},
			{"msgo_handshakes_total", 1, []string{"result=bad_token"}},
			{"msgo_connections_opened_total", 2, nil},
			{"msgo_frames_in_total", 5, nil},
			{"msgo_bytes_in_total", 50, nil},
			{"msgo_frames_out_total", 7, nil},
			{"msgo_bytes_out_total", 200, nil},
			{"msgo_replies_total", 3, []string{"status=200"}},
			{"msgo_replies_total", 1, []string{"status=404"}},
			{"msgo_replies_total", 1, []string{"status=400"}},
			{"msgo_handler_seconds", 1, []string{"method=index.index.index"}},
			{"msgo_closes_total", 1, []string{"code=1008"}},
		} {
			if ok, got := grew(after, c.name, c.by, c.labels...); !ok {
				return false, got
			}
		}
		if n := value(after, "msgo_connections"); n != 1 {
			return false, fmt.Sprintf("msgo_connections %v", n)
		}
		return true, ""
	})
}
