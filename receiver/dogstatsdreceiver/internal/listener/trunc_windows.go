//go:build windows

package listener

// msgTrunc is unknown here: Windows reports no truncation flag.
const msgTrunc = 0
