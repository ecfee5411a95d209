//go:build !linux

package listener

import "net"

// batchSender writes one datagram per call here.
type batchSender struct{ c net.Conn }

func newBatchSender(c net.Conn) (*batchSender, error) { return &batchSender{c: c}, nil }

// Send writes all of msgs.
func (s *batchSender) Send(msgs [][]byte) error {
	for _, m := range msgs {
		if _, err := s.c.Write(m); err != nil {
			return err
		}
	}
	return nil
}
