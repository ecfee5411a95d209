//go:build !linux

package listener

import "syscall"

var udpOOBSize = 0

// tuneRcvbuf is left to net.UDPConn.SetReadBuffer here; the effective size is unknown.
func tuneRcvbuf(syscall.RawConn, int) (int, error) { return 0, nil }

func enableDropCounter(syscall.RawConn) error { return nil }

func dropsFromOOB([]byte) (uint64, bool) { return 0, false }

func socketInode(syscall.RawConn) uint64 { return 0 }

func procUDPDrops(uint64) (uint64, bool) { return 0, false }
