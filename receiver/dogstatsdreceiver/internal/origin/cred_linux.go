//go:build linux

package origin

import (
	"encoding/binary"
	"syscall"

	"golang.org/x/sys/unix"
)

// Supported reports whether this system can tell a Unix socket sender's pid.
const Supported = true

// OOBSize is the size of the control buffer a read needs for the credentials: room for the
// ucred message and one more control message, so a sender's extra ancillary data does not
// truncate ours.
var OOBSize = unix.CmsgSpace(unix.SizeofUcred) + unix.CmsgSpace(16)

// EnablePassCred asks the kernel to attach the sender's credentials (SCM_CREDENTIALS) to every
// message read from the socket.
func EnablePassCred(rc syscall.RawConn) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
	}); err != nil {
		return err
	}
	return serr
}

// PeerCredentials returns the credentials of the process that connected a Unix stream socket,
// as of connect time (SO_PEERCRED).
func PeerCredentials(rc syscall.RawConn) (Credentials, error) {
	var (
		cred *unix.Ucred
		serr error
	)
	if err := rc.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Credentials{}, err
	}
	if serr != nil {
		return Credentials{}, serr
	}
	return Credentials{PID: cred.Pid, UID: cred.Uid, GID: cred.Gid}, nil
}

// ParseCredentials finds the SCM_CREDENTIALS message in the control bytes of one read. It does
// not allocate.
func ParseCredentials(oob []byte) (Credentials, bool) {
	data := ControlMessage(oob, unix.SOL_SOCKET, unix.SCM_CREDENTIALS)
	if len(data) < unix.SizeofUcred {
		return Credentials{}, false
	}
	return Credentials{
		PID: int32(binary.NativeEndian.Uint32(data[0:])),
		UID: binary.NativeEndian.Uint32(data[4:]),
		GID: binary.NativeEndian.Uint32(data[8:]),
	}, true
}

// ControlMessage returns the data of the first control message of the given level and type in
// oob, or nil. It does not allocate, unlike unix.ParseSocketControlMessage. The listener uses
// it for SO_RXQ_OVFL too.
func ControlMessage(oob []byte, level, typ int32) []byte {
	hdr := unix.CmsgLen(0) // the aligned header size
	for len(oob) >= unix.SizeofCmsghdr {
		// Decode the header field by field: oob need not be aligned for a pointer cast, and
		// cmsg_len is a size_t.
		var n int
		if unix.SizeofPtr == 8 {
			n = int(binary.NativeEndian.Uint64(oob))
		} else {
			n = int(binary.NativeEndian.Uint32(oob))
		}
		lvl := int32(binary.NativeEndian.Uint32(oob[unix.SizeofPtr:]))
		mtyp := int32(binary.NativeEndian.Uint32(oob[unix.SizeofPtr+4:]))
		if n < hdr || n > len(oob) {
			return nil
		}
		if lvl == level && mtyp == typ {
			return oob[hdr:n]
		}
		next := unix.CmsgSpace(n - hdr)
		if next > len(oob) {
			return nil
		}
		oob = oob[next:]
	}
	return nil
}
