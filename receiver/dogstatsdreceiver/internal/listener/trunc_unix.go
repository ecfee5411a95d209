//go:build unix && !linux

package listener

import "syscall"

const msgTrunc = syscall.MSG_TRUNC
