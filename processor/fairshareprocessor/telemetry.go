package fairshareprocessor

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/aggregate"
)

var (
	reasonCumulative  = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "cumulative")))
	reasonUnmergeable = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "unmergeable")))
	reasonTooLate     = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "too_late")))
	reasonInvalid     = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "invalid")))
	outcomeKept       = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", "kept")))
	outcomeDropped    = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", "dropped")))
)

// recordPoints reports what one ConsumeMetrics did with its points: st is how much the
// counters grew, rows the rows it created.
func (p *fairshareProcessor) recordPoints(ctx context.Context, st aggregate.Stats, rows int) {
	t := p.tel
	add := func(c metric.Int64Counter, n uint64, opts ...metric.AddOption) {
		if n > 0 {
			c.Add(ctx, int64(n), opts...)
		}
	}
	add(t.ProcessorFairsharePointsAggregated, st.Points)
	add(t.ProcessorFairsharePointsForwarded, st.PassThrough, reasonCumulative)
	add(t.ProcessorFairsharePointsForwarded, st.Unmergeable, reasonUnmergeable)
	add(t.ProcessorFairsharePointsDropped, st.TooLate, reasonTooLate)
	add(t.ProcessorFairsharePointsDropped, st.Invalid, reasonInvalid)
	add(t.ProcessorFairsharePointsLate, st.Late)
	add(t.ProcessorFairsharePointsClamped, st.FutureClamped)
	add(t.ProcessorFairsharePointsOverflow, st.Overflow)
	add(t.ProcessorFairsharePointsMetricOverflow, st.MetricOverflow)
	add(t.ProcessorFairshareMetricsCreated, st.MetricsCreated)
	add(t.ProcessorFairshareMetricsEvicted, st.MetricsEvicted)
	if n := int64(st.MetricsCreated) - int64(st.MetricsEvicted); n != 0 {
		t.ProcessorFairshareMetrics.Add(ctx, n)
	}
	if rows != 0 {
		t.ProcessorFairshareRows.Add(ctx, int64(rows))
	}
}

// recordFlush reports one flush's sampling outcome and the rows it released.
func (p *fairshareProcessor) recordFlush(ctx context.Context, fs flushStats, rows int) {
	t := p.tel
	if fs.keptRows > 0 {
		t.ProcessorFairshareFlushRows.Add(ctx, int64(fs.keptRows), outcomeKept)
	}
	if fs.droppedRows > 0 {
		t.ProcessorFairshareFlushRows.Add(ctx, int64(fs.droppedRows), outcomeDropped)
	}
	if fs.budget > 0 {
		t.ProcessorFairshareBudgetBytes.Add(ctx, int64(fs.budget))
		t.ProcessorFairshareFlushBytes.Add(ctx, int64(fs.keptBytes+0.5), outcomeKept)
		t.ProcessorFairshareFlushBytes.Add(ctx, int64(fs.droppedBytes+0.5), outcomeDropped)
		if fs.keptBytes > fs.budget {
			t.ProcessorFairshareFlushesOverBudget.Add(ctx, 1)
		}
	}
	if rows != 0 {
		t.ProcessorFairshareRows.Add(ctx, int64(rows))
	}
}
