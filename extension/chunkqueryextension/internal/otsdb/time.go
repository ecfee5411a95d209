package otsdb

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads a time as OpenTSDB 2.4 does and returns it in Unix milliseconds: "now",
// "<n><unit>-ago" (units as ParseDuration), Unix seconds (at most 10 digits), Unix
// milliseconds (more digits, or "<n>ms"), "<seconds>.<ms>" (one to three digits of
// milliseconds), or a date "yyyy/MM/dd", "yyyy/MM/dd-HH:mm", "yyyy/MM/dd HH:mm",
// "yyyy/MM/dd-HH:mm:ss", "yyyy/MM/dd HH:mm:ss" in loc. A relative time before 1970 is 1970.
func ParseTime(s string, now time.Time, loc *time.Location) (int64, error) {
	t, err := parseTime(s, now, loc)
	if err == nil && t > MaxTime {
		return 0, badRequest("Invalid time: %s. Times after 9999-12-31 are not supported", s)
	}
	return t, err
}

// MaxTime is the last millisecond this API reads or writes, 9999-12-31T23:59:59.999Z: it
// keeps every sum of a time and an interval far from overflowing.
const MaxTime = 253402300799999

func parseTime(s string, now time.Time, loc *time.Location) (int64, error) {
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return 0, badRequest("Missing time")
	case lower == "now":
		return now.UnixMilli(), nil
	case strings.HasSuffix(lower, "-ago"):
		d, err := ParseDuration(s[:len(s)-len("-ago")])
		if err != nil {
			return 0, err
		}
		return max(now.UnixMilli()-d, 0), nil
	case strings.HasSuffix(s, "ms") && allDigits(s[:len(s)-2]):
		ms, err := strconv.ParseInt(s[:len(s)-2], 10, 64)
		if err != nil {
			return 0, badRequest("Invalid time: %s. The number is too large", s)
		}
		return ms, nil
	case strings.ContainsAny(s, "/:"):
		return parseDate(s, loc)
	}
	if sec, frac, ok := strings.Cut(s, "."); ok {
		if len(sec) != 10 || !allDigits(sec) || len(frac) < 1 || len(frac) > 3 || !allDigits(frac) {
			return 0, badRequest("Invalid time: %s. Millisecond timestamps must be in the format <seconds>.<ms> where the milliseconds are limited to 3 digits", s)
		}
		secs, _ := strconv.ParseInt(sec, 10, 64)
		ms, _ := strconv.ParseInt(frac+strings.Repeat("0", 3-len(frac)), 10, 64)
		return secs*1000 + ms, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && allDigits(s) {
		return 0, badRequest("Invalid time: %s. The number is too large", s)
	}
	if err != nil {
		return 0, badRequest("Invalid time: %s. It is not a relative time (1h-ago), a Unix timestamp or a date (yyyy/MM/dd-HH:mm:ss)", s)
	}
	if n < 0 {
		return 0, badRequest("Invalid time: %s. Negative timestamps are not supported.", s)
	}
	// OpenTSDB's rule: ten digits or fewer are seconds (until November 2286).
	if len(s) <= 10 {
		n *= 1000
	}
	return n, nil
}

// dateLayouts are the absolute date forms OpenTSDB accepts, by length.
var dateLayouts = map[int][]string{
	10: {"2006/01/02"},
	16: {"2006/01/02-15:04", "2006/01/02 15:04"},
	19: {"2006/01/02-15:04:05", "2006/01/02 15:04:05"},
}

func parseDate(s string, loc *time.Location) (int64, error) {
	layouts, ok := dateLayouts[len(s)]
	if !ok {
		return 0, badRequest("Invalid absolute date: %s", s)
	}
	layout := layouts[0]
	if len(layouts) > 1 && !strings.Contains(s, "-") {
		layout = layouts[1]
	}
	if loc == nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return 0, badRequest("Invalid date: %s. It must be in the format %s", s, javaLayout(layout))
	}
	if t.Year() < 1970 {
		return 0, badRequest("Invalid date: %s. Dates before 1970 are not supported", s)
	}
	return t.UnixMilli(), nil
}

// javaLayout writes a Go layout in the notation of OpenTSDB's documentation.
func javaLayout(layout string) string {
	return strings.NewReplacer("2006", "yyyy", "01", "MM", "02", "dd", "15", "HH", "04", "mm", "05", "ss").Replace(layout)
}

// ParseDuration reads an OpenTSDB duration, "<n><unit>" with a positive integer n and a unit
// ms, s, m, h, d, w, n (30 days) or y (365 days), and returns it in milliseconds.
func ParseDuration(s string) (int64, error) {
	if s == "" {
		return 0, badRequest("Cannot parse null or empty duration")
	}
	digits := 0
	for digits < len(s) && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	if digits == len(s) {
		return 0, badRequest("Invalid duration, must have an integer and unit: %s", s)
	}
	n, err := strconv.ParseInt(s[:digits], 10, 64)
	if err != nil {
		return 0, badRequest("Invalid duration (number): %s", s)
	}
	if n <= 0 {
		return 0, badRequest("Zero or negative duration: %s", s)
	}
	unit, ok := durationUnits[strings.ToLower(s[digits:])]
	if !ok {
		return 0, badRequest("Invalid duration (suffix): %s", s)
	}
	if n > math.MaxInt64/unit {
		return 0, badRequest("Duration must be < Long.MAX_VALUE ms: %s", s)
	}
	return n * unit, nil
}

// durationUnits in milliseconds.
var durationUnits = map[string]int64{
	"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
	"w": 7 * 86_400_000, "n": 30 * 86_400_000, "y": 365 * 86_400_000,
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
