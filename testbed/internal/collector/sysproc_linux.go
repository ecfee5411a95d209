package collector

import "syscall"

// sysProcAttr makes the kernel SIGKILL the collector if the thread that started it dies, so a
// crashed testbed leaves no collector behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
