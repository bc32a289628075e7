package framework

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// Counters survive a reload: the process handing over passes Carry's
// totals, the new one Seeds them, and Gather adds them to its own, so a
// Prometheus counter of msgo never goes back to zero on a reload (a rate()
// across one stays true). Histograms are carried the same way; gauges are
// not (they are the new process's own readings). Carried does it for any
// registry: the server's own, and the manager's.

// Carried is a gatherer whose msgo_ counters and histograms go on from the
// totals of the process before a reload.
type Carried struct {
	g    prometheus.Gatherer
	seed []*dto.MetricFamily
}

// NewCarried returns g with its totals carried across reloads.
func NewCarried(g prometheus.Gatherer) *Carried { return &Carried{g: g} }

// carried reports whether family mf is carried over.
func carried(mf *dto.MetricFamily) bool {
	t := mf.GetType()
	return strings.HasPrefix(mf.GetName(), "msgo_") && (t == dto.MetricType_COUNTER || t == dto.MetricType_HISTOGRAM)
}

// Gather implements prometheus.Gatherer: the server's metrics with the
// totals seeded from the process before this one added in.
func (m *Metrics) Gather() ([]*dto.MetricFamily, error) {
	return prometheus.Gatherers{m.own, m.runtime}.Gather()
}

// Carry returns the server's counter and histogram totals (see
// Carried.Carry).
func (m *Metrics) Carry() ([]byte, error) { return m.own.Carry() }

// Seed adds the totals Carry returned in the process before this one (see
// Carried.Seed).
func (m *Metrics) Seed(b []byte) error { return m.own.Seed(b) }

// Gather implements prometheus.Gatherer: the gatherer's metrics, seed
// added.
func (m *Carried) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := m.g.Gather()
	if len(m.seed) == 0 {
		return mfs, err
	}
	byName := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		byName[mf.GetName()] = mf
	}
	for _, base := range m.seed {
		mf := byName[base.GetName()]
		if mf == nil {
			mf = proto.Clone(base).(*dto.MetricFamily)
			mf.Metric = nil
			byName[mf.GetName()] = mf
			mfs = append(mfs, mf)
		}
		for _, bm := range base.Metric {
			if cur := findMetric(mf, bm); cur != nil {
				addMetric(cur, bm)
			} else {
				mf.Metric = append(mf.Metric, proto.Clone(bm).(*dto.Metric))
			}
		}
	}
	sort.Slice(mfs, func(i, j int) bool { return mfs[i].GetName() < mfs[j].GetName() })
	return mfs, err
}

func labelKey(m *dto.Metric) string {
	var b strings.Builder
	for _, l := range m.Label {
		b.WriteString(l.GetName())
		b.WriteByte(0)
		b.WriteString(l.GetValue())
		b.WriteByte(0)
	}
	return b.String()
}

func findMetric(mf *dto.MetricFamily, like *dto.Metric) *dto.Metric {
	k := labelKey(like)
	for _, m := range mf.Metric {
		if labelKey(m) == k {
			return m
		}
	}
	return nil
}

// addMetric adds base's totals to m (counters, or histograms with the same
// buckets).
func addMetric(m, base *dto.Metric) {
	if c, bc := m.GetCounter(), base.GetCounter(); c != nil && bc != nil {
		c.Value = proto.Float64(c.GetValue() + bc.GetValue())
		return
	}
	h, bh := m.GetHistogram(), base.GetHistogram()
	if h == nil || bh == nil {
		return
	}
	h.SampleCount = proto.Uint64(h.GetSampleCount() + bh.GetSampleCount())
	h.SampleSum = proto.Float64(h.GetSampleSum() + bh.GetSampleSum())
	for i, b := range h.Bucket {
		if i < len(bh.Bucket) && bh.Bucket[i].GetUpperBound() == b.GetUpperBound() {
			b.CumulativeCount = proto.Uint64(b.GetCumulativeCount() + bh.Bucket[i].GetCumulativeCount())
		}
	}
}

// Carry returns this process's counter and histogram totals (seed
// included), for the process that takes over to Seed.
func (m *Carried) Carry() ([]byte, error) {
	mfs, err := m.Gather()
	if err != nil {
		return nil, fmt.Errorf("framework: gather metrics: %w", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeProtoDelim))
	for _, mf := range mfs {
		if carried(mf) {
			if err := enc.Encode(mf); err != nil {
				return nil, fmt.Errorf("framework: encode metrics: %w", err)
			}
		}
	}
	return buf.Bytes(), nil
}

// Seed adds the totals Carry returned in the process before this one; call
// it once, before the metrics are served.
func (m *Carried) Seed(b []byte) error {
	dec := expfmt.NewDecoder(bytes.NewReader(b), expfmt.NewFormat(expfmt.TypeProtoDelim))
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("framework: decode metrics: %w", err)
		}
		if carried(mf) {
			m.seed = append(m.seed, mf)
		}
	}
}
