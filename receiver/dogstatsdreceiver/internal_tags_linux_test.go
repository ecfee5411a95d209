//go:build linux

package dogstatsdreceiver

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With client_origin, the cgroup inode a client sends in |c:in-<inode> becomes the container.id
// of the container whose cgroup has that inode (here a fake hierarchy under a temp dir).
func TestClientCgroupInodeOverUDP(t *testing.T) {
	const id = "3f2e9c1b7d5a48e6b0c2f4a1d9e8b7c6a5f4e3d2c1b0a9f8e7d6c5b4a3928170"
	root := t.TempDir()
	dir := filepath.Join(root, "kubepods.slice", "kubepods-pod1.slice", "cri-containerd-"+id+".scope")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(dir, &st))
	saved := cgroupRoot
	cgroupRoot = root
	t.Cleanup(func() { cgroupRoot = saved })

	for _, tc := range []struct {
		clientOrigin bool
		want         map[string]any
	}{
		{true, map[string]any{"container.id": id}},
		{false, map[string]any{}}, // not honoured: the line has no origin over UDP
	} {
		h := startReceiver(t, func(c *Config) { c.OriginDetection.ClientOrigin = tc.clientOrigin })
		conn, err := net.Dial("udp", h.addr("udp"))
		require.NoError(t, err)
		_, err = conn.Write([]byte("app.hits:1|c|#env:x|c:in-" + strconv.FormatUint(st.Ino, 10)))
		require.NoError(t, err)
		require.NoError(t, conn.Close())
		h.waitLines(t, 1)
		h.shutdown(t)
		rm := h.metrics.AllMetrics()[0].ResourceMetrics().At(0)
		assert.Equal(t, tc.want, rm.Resource().Attributes().AsRaw(), "client_origin %v", tc.clientOrigin)
	}
}
