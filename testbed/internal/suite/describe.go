package suite

import (
	"fmt"
	"strings"
)

// Describe summarises a run in one paragraph for progress output.
func Describe(r RunResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s:", r.Spec.Kind, r.Spec.Transport)
	for _, p := range r.Phases {
		fmt.Fprintf(&b, " [%s sent %d lines in %d datagrams at %.0f/s (behind %d, errors %d), delivered %.4f, counter series %d]",
			p.Prefix, p.Load.Sent.Lines, p.Load.Sent.Datagrams, p.Load.Rate(), p.Load.Behind, p.Load.Errors, p.Delivered(), p.OutContexts)
	}
	fmt.Fprintf(&b, " lines read %.0f accepted %.0f samples %.0f queue drops %.0f contexts overflow %.0f kernel drops %d;"+
		" collector CPU %.2fs (%.2f s per M lines) generator CPU %.2fs over %.1fs; RSS base %s peak %s; output %d points; logs %d; last accepted while stopping %.0f",
		r.Lines, r.Accepted, r.Samples, r.QueueDrops, r.ContextsOverflow, r.KernelDrops, r.CPU.Seconds(), r.CPUPerMillion(), r.GenCPU.Seconds(), r.LoadTime.Seconds(),
		mib(r.BaseRSS), mib(r.PeakRSS), r.Output.Points, r.LogRecords, r.LastAccepted)
	if r.Pipeline != "" {
		f, fl := r.Fairshare, r.Output.Flushes
		fmt.Fprintf(&b, "; pipeline %s: %.2f cores, fairshare late %.0f too late %.0f overflow %.0f rows kept %.0f dropped %.0f,"+
			" flushes %d over budget %d, budget use %.1f%% demand %.1f%%, export failures %.0f, %d segments",
			r.Pipeline, r.Cores(), f.Late, f.TooLate, f.Overflow, f.RowsKept, f.RowsDropped,
			fl.Count, fl.OverBudget, 100*fl.Kept/fl.Budget, 100*fl.Offered/fl.Budget, f.ExportFailed, r.Output.Requests)
	}
	return b.String()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
