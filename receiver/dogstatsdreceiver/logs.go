package dogstatsdreceiver

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/aggregate"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// logBuffer turns events and service checks into log records and holds them, at most max of
// them, until the next emission. It is the workers' LogSink.
type logBuffer struct {
	max          int
	scopeName    string
	scopeVersion string
	extraTags    []string // added to every record's tags
	dropped      atomic.Uint64

	mu        sync.Mutex
	logs      plog.Logs
	count     int
	resources map[aggregate.Resource]plog.LogRecordSlice
}

func newLogBuffer(limit int, scopeName, scopeVersion string, extraTags []string) *logBuffer {
	b := &logBuffer{max: limit, scopeName: scopeName, scopeVersion: scopeVersion, extraTags: extraTags}
	b.reset()
	return b
}

func (b *logBuffer) reset() {
	b.logs = plog.NewLogs()
	b.count = 0
	b.resources = make(map[aggregate.Resource]plog.LogRecordSlice)
}

// take returns what is held and starts anew; nil when nothing is held.
func (b *logBuffer) take() (plog.Logs, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.count == 0 {
		return plog.Logs{}, 0
	}
	out, n := b.logs, b.count
	b.reset()
	return out, n
}

// record appends an empty record under res, or reports false when max records are already
// held. The caller holds b.mu.
func (b *logBuffer) record(res aggregate.Resource) (plog.LogRecord, bool) {
	if b.count >= b.max {
		b.dropped.Add(1)
		return plog.LogRecord{}, false
	}
	b.count++
	recs, ok := b.resources[res]
	if !ok {
		rl := b.logs.ResourceLogs().AppendEmpty()
		res.Put(rl.Resource().Attributes())
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(b.scopeName)
		sl.Scope().SetVersion(b.scopeVersion)
		recs = sl.LogRecords()
		b.resources[res] = recs
	}
	lr := recs.AppendEmpty()
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	return lr, true
}

func stampRecord(lr plog.LogRecord, unixSeconds int64) {
	if unixSeconds > 0 {
		lr.SetTimestamp(pcommon.Timestamp(uint64(unixSeconds) * uint64(time.Second)))
	} else {
		lr.SetTimestamp(lr.ObservedTimestamp())
	}
}

func (b *logBuffer) putSortedTags(attrs pcommon.Map, tags []string) {
	if len(tags)+len(b.extraTags) == 0 {
		return
	}
	sorted := append(slices.Clone(tags), b.extraTags...)
	slices.Sort(sorted)
	aggregate.PutTags(attrs, slices.Compact(sorted))
}

var eventSeverity = map[parse.AlertType]plog.SeverityNumber{
	parse.AlertInfo: plog.SeverityNumberInfo, parse.AlertSuccess: plog.SeverityNumberInfo,
	parse.AlertWarning: plog.SeverityNumberWarn, parse.AlertError: plog.SeverityNumberError,
}

// AddEvent implements worker.LogSink: the body is the title, a newline and the text; every field
// is an attribute under `dogstatsd.event.*` and tags are attributes as for metrics.
func (b *logBuffer) AddEvent(ev *parse.Event, res aggregate.Resource) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lr, ok := b.record(res)
	if !ok {
		return
	}
	stampRecord(lr, ev.Timestamp)
	body := ev.Title
	if ev.Text != "" {
		body += "\n" + ev.Text
	}
	lr.Body().SetStr(body)
	lr.SetSeverityNumber(eventSeverity[ev.AlertType])
	lr.SetSeverityText(strings.ToUpper(ev.AlertType.String()))
	attrs := lr.Attributes()
	b.putSortedTags(attrs, ev.Tags)
	attrs.PutStr("dogstatsd.type", "event")
	attrs.PutStr("dogstatsd.event.title", ev.Title)
	attrs.PutStr("dogstatsd.event.text", ev.Text)
	attrs.PutStr("dogstatsd.event.priority", ev.Priority.String())
	attrs.PutStr("dogstatsd.event.alert_type", ev.AlertType.String())
	if ev.AggregationKey != "" {
		attrs.PutStr("dogstatsd.event.aggregation_key", ev.AggregationKey)
	}
	if ev.SourceType != "" {
		attrs.PutStr("dogstatsd.event.source_type_name", ev.SourceType)
	}
}

var checkSeverity = map[parse.ServiceCheckStatus]plog.SeverityNumber{
	0: plog.SeverityNumberInfo, 1: plog.SeverityNumberWarn, 2: plog.SeverityNumberError, 3: plog.SeverityNumberUnspecified,
}

// AddServiceCheck implements worker.LogSink: the body reads "<name>: <STATUS>" plus the message;
// name, status (0..3) and message are `dogstatsd.service_check.*` attributes.
func (b *logBuffer) AddServiceCheck(sc *parse.ServiceCheck, res aggregate.Resource) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lr, ok := b.record(res)
	if !ok {
		return
	}
	stampRecord(lr, sc.Timestamp)
	status := strings.ToUpper(sc.Status.String())
	body := sc.Name + ": " + status
	if sc.Message != "" {
		body += " " + sc.Message
	}
	lr.Body().SetStr(body)
	lr.SetSeverityNumber(checkSeverity[sc.Status])
	lr.SetSeverityText(status)
	attrs := lr.Attributes()
	b.putSortedTags(attrs, sc.Tags)
	attrs.PutStr("dogstatsd.type", "service_check")
	attrs.PutStr("dogstatsd.service_check.name", sc.Name)
	attrs.PutInt("dogstatsd.service_check.status", int64(sc.Status))
	if sc.Message != "" {
		attrs.PutStr("dogstatsd.service_check.message", sc.Message)
	}
}
