//go:build !unix

package listener

import (
	"errors"
	"net"
)

// sealUDP is not available here: the drain reads until the socket is idle.
func sealUDP(*net.UDPConn) error { return errors.New("not supported on this system") }
