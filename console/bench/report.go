package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// figure is one measured number. Its key names the unit (rss_per_conn_kib,
// p99_ms), so the JSON needs no separate unit field.
type figure struct {
	key   string
	value float64
}

// param is one setting a run used, echoed so that a JSON line stands alone.
type param struct {
	key   string
	value any
}

// result is one run of a scenario.
type result struct {
	scenario string
	run      string // "1", "2", ... or "median"
	params   []param
	figures  []figure
	notes    []string // failures and hints a reader of the figures needs
}

func (r *result) add(key string, v float64) { r.figures = append(r.figures, figure{key, v}) }

func (r *result) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *result) value(key string) (float64, bool) {
	for _, f := range r.figures {
		if f.key == key {
			return f.value, true
		}
	}
	return 0, false
}

// MarshalJSON writes {"scenario","run","params","figures","notes"} with
// params and figures in the order the scenario added them.
func (r result) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"scenario":`)
	writeJSON(&b, r.scenario)
	b.WriteString(`,"run":`)
	if n, err := strconv.Atoi(r.run); err == nil {
		b.WriteString(strconv.Itoa(n))
	} else {
		writeJSON(&b, r.run)
	}
	b.WriteString(`,"params":{`)
	for i, p := range r.params {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSON(&b, p.key)
		b.WriteByte(':')
		writeJSON(&b, p.value)
	}
	b.WriteString(`},"figures":{`)
	for i, f := range r.figures {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSON(&b, f.key)
		b.WriteByte(':')
		b.WriteString(formatNumber(f.value))
	}
	b.WriteString(`}`)
	if len(r.notes) > 0 {
		b.WriteString(`,"notes":`)
		writeJSON(&b, r.notes)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any) {
	enc, err := json.Marshal(v)
	if err != nil {
		enc, _ = json.Marshal(fmt.Sprint(v))
	}
	b.Write(enc)
}

// formatNumber rounds to three decimals and drops what is not needed; NaN
// and infinities (nothing measured) become null.
func formatNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "null"
	}
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

// median returns a result whose figures are the medians over runs.
func median(runs []result) result {
	m := result{scenario: runs[0].scenario, run: "median", params: runs[0].params}
	for _, f := range runs[0].figures {
		var vs []float64
		for _, r := range runs {
			if v, ok := r.value(f.key); ok && !math.IsNaN(v) {
				vs = append(vs, v)
			}
		}
		v := math.NaN()
		if len(vs) > 0 {
			slices.Sort(vs)
			v = vs[len(vs)/2]
			if len(vs)%2 == 0 {
				v = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
			}
		}
		m.add(f.key, v)
	}
	return m
}

// printTable writes the runs side by side: one row per figure, one column
// per run, then the median when there are several.
func printTable(w io.Writer, runs []result) {
	cols := runs
	if len(runs) > 1 {
		cols = append(slices.Clone(runs), median(runs))
	}
	r0 := runs[0]
	fmt.Fprintf(w, "msgo bench %s:", r0.scenario)
	for _, p := range r0.params {
		fmt.Fprintf(w, " %s=%v", p.key, p.value)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "figure\t")
	for _, c := range cols {
		if c.run == "median" {
			fmt.Fprint(tw, "median\t")
		} else {
			fmt.Fprintf(tw, "run %s\t", c.run)
		}
	}
	fmt.Fprintln(tw)
	for _, f := range r0.figures {
		fmt.Fprintf(tw, "%s\t", strings.ReplaceAll(f.key, "_", " "))
		for _, c := range cols {
			v, ok := c.value(f.key)
			s := "-"
			if ok && !math.IsNaN(v) {
				s = humanNumber(v)
			}
			fmt.Fprintf(tw, "%s\t", s)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, r := range runs {
		for _, n := range r.notes {
			fmt.Fprintf(w, "note (run %s): %s\n", r.run, n)
		}
	}
}

func humanNumber(v float64) string {
	switch a := math.Abs(v); {
	case a == math.Trunc(a) && a < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// progress writes one status line to w every second until ctx ends: the
// scenario's own counters, then the server's CPU and RSS when sampled.
func progress(ctx context.Context, w io.Writer, name string, ps procs, line func() string) {
	start := time.Now()
	prev, perr := ps.sample()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := fmt.Sprintf("[%s %3.0fs] %s", name, time.Since(start).Seconds(), line())
		if len(ps) > 0 {
			if u, err := ps.sample(); err == nil && perr == nil {
				cpu := cpuMicros(prev, u) / float64(u.at.Sub(prev.at).Microseconds()) * 100
				s += fmt.Sprintf(" | server cpu %.0f%% rss %.1f MiB", cpu, float64(u.rssKiB)/1024)
				prev = u
			} else {
				prev, perr = u, err
			}
		}
		fmt.Fprintln(w, s)
	}
}

// startProgress runs progress in the background; the returned func stops it
// and waits, so no line is written after the table.
func startProgress(ctx context.Context, w io.Writer, name string, ps procs, line func() string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { progress(ctx, w, name, ps, line); close(done) }()
	return func() { cancel(); <-done }
}
