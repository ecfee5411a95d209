package otsdb

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	t0 := time.Unix(1_700_000_000, 0).UTC() // 2023-11-14T22:13:20Z
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	for _, c := range []struct {
		in   string
		loc  *time.Location
		want time.Time
	}{
		{"now", nil, now},
		{"NOW", nil, now},
		{"1h-ago", nil, now.Add(-time.Hour)},
		{"30m-ago", nil, now.Add(-30 * time.Minute)},
		{"10s-ago", nil, now.Add(-10 * time.Second)},
		{"500ms-ago", nil, now.Add(-500 * time.Millisecond)},
		{"2d-ago", nil, now.Add(-48 * time.Hour)},
		{"1w-ago", nil, now.Add(-7 * 24 * time.Hour)},
		{"1n-ago", nil, now.Add(-30 * 24 * time.Hour)},
		{"1y-ago", nil, now.Add(-365 * 24 * time.Hour)},
		{"1H-AGO", nil, now.Add(-time.Hour)},
		{"100000y-ago", nil, time.UnixMilli(0)}, // before 1970: 1970
		{"1700000000", nil, t0},
		{"1700000000123", nil, t0.Add(123 * time.Millisecond)},
		{"1700000000.5", nil, t0.Add(500 * time.Millisecond)},
		{"1700000000.123", nil, t0.Add(123 * time.Millisecond)},
		{"1700000000123ms", nil, t0.Add(123 * time.Millisecond)},
		{"0", nil, time.UnixMilli(0)},
		{"2023/11/14-22:13:20", nil, t0},
		{"2023/11/14 22:13:20", nil, t0},
		{"2023/11/14-22:13", nil, t0.Add(-20 * time.Second)},
		{"2023/11/14 22:13", nil, t0.Add(-20 * time.Second)},
		{"2023/11/14", nil, time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC)},
		{"2023/11/14-17:13:20", ny, t0}, // EST, UTC-5
	} {
		got, err := ParseTime(c.in, now, c.loc)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want.UnixMilli(), got, c.in)
	}
}

func TestParseTimeErrors(t *testing.T) {
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct{ in, msg string }{
		{"", "Missing time"},
		{"yesterday", "Invalid time: yesterday. It is not a relative time (1h-ago), a Unix timestamp or a date (yyyy/MM/dd-HH:mm:ss)"},
		{"-5", "Invalid time: -5. Negative timestamps are not supported."},
		{"100000000000000000000", "Invalid time: 100000000000000000000. The number is too large"},
		{"99999999999999999", "Invalid time: 99999999999999999. Times after 9999-12-31 are not supported"},
		{"1700000000.1234", "Invalid time: 1700000000.1234. Millisecond timestamps must be in the format <seconds>.<ms> where the milliseconds are limited to 3 digits"},
		{"170000000.5", "Invalid time: 170000000.5. Millisecond timestamps must be in the format <seconds>.<ms> where the milliseconds are limited to 3 digits"},
		{"2023/13/01", "Invalid date: 2023/13/01. It must be in the format yyyy/MM/dd"},
		{"2023/11/14T22:13:20", "Invalid date: 2023/11/14T22:13:20. It must be in the format yyyy/MM/dd HH:mm:ss"},
		{"2023/1/1", "Invalid absolute date: 2023/1/1"},
		{"1969/12/31", "Invalid date: 1969/12/31. Dates before 1970 are not supported"},
		{"1x-ago", "Invalid duration (suffix): 1x"},
		{"h-ago", "Invalid duration (number): h"},
		{"-ago", "Cannot parse null or empty duration"},
		{"0s-ago", "Zero or negative duration: 0s"},
	} {
		_, err := ParseTime(c.in, now, nil)
		var e *Error
		require.ErrorAs(t, err, &e, c.in)
		assert.Equal(t, 400, e.Code, c.in)
		assert.Equal(t, c.msg, e.Message, c.in)
	}
}
