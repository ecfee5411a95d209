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

// recordPoints reports what one ConsumeMetrics did with its points.
func (p *fairshareProcessor) recordPoints(ctx context.Context, before, after aggregate.Stats, rows int) {
	t := p.tel
	add := func(c metric.Int64Counter, a, b uint64, opts ...metric.AddOption) {
		if b > a {
			c.Add(ctx, int64(b-a), opts...)
		}
	}
	add(t.ProcessorFairsharePointsAggregated, before.Points, after.Points)
	add(t.ProcessorFairsharePointsForwarded, before.PassThrough, after.PassThrough, reasonCumulative)
	add(t.ProcessorFairsharePointsForwarded, before.Unmergeable, after.Unmergeable, reasonUnmergeable)
	add(t.ProcessorFairsharePointsDropped, before.TooLate, after.TooLate, reasonTooLate)
	add(t.ProcessorFairsharePointsDropped, before.Invalid, after.Invalid, reasonInvalid)
	add(t.ProcessorFairsharePointsLate, before.Late, after.Late)
	add(t.ProcessorFairsharePointsClamped, before.FutureClamped, after.FutureClamped)
	add(t.ProcessorFairsharePointsOverflow, before.Overflow, after.Overflow)
	add(t.ProcessorFairsharePointsMetricOverflow, before.MetricOverflow, after.MetricOverflow)
	add(t.ProcessorFairshareMetricsCreated, before.MetricsCreated, after.MetricsCreated)
	add(t.ProcessorFairshareMetricsEvicted, before.MetricsEvicted, after.MetricsEvicted)
	if n := (after.MetricsCreated - before.MetricsCreated) - (after.MetricsEvicted - before.MetricsEvicted); n != 0 {
		t.ProcessorFairshareMetrics.Add(ctx, int64(n))
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
