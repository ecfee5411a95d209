package origin

import (
	"strings"
	"testing"
)

const (
	idA = "3f2e9c1b7d5a48e6b0c2f4a1d9e8b7c6a5f4e3d2c1b0a9f8e7d6c5b4a3928170"
	idB = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
)

func TestContainerIDFromCgroup(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
	}{
		{"docker cgroup v1", `12:pids:/docker/` + idA + `
11:hugetlb:/docker/` + idA + `
10:memory:/docker/` + idA + `
4:cpu,cpuacct:/docker/` + idA + `
1:name=systemd:/docker/` + idA + `
0::/system.slice/containerd.service
`, idA},
		{"docker cgroup v2 systemd driver", "0::/system.slice/docker-" + idA + ".scope\n", idA},
		{"kubernetes containerd cgroup v2", "0::/kubepods.slice/kubepods-burstable.slice/" +
			"kubepods-burstable-pod8e7a2b1c_3d4e_4f5a_9b6c_7d8e9f0a1b2c.slice/cri-containerd-" + idA + ".scope\n", idA},
		{"kubernetes cri-o cgroup v1", "11:memory:/kubepods.slice/kubepods-besteffort.slice/" +
			"kubepods-besteffort-pod8e7a2b1c_3d4e_4f5a_9b6c_7d8e9f0a1b2c.slice/crio-" + idA + ".scope\n" +
			"10:cpuset:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod8e7a2b1c.slice/crio-" + idA + ".scope\n", idA},
		{"kubernetes cgroupfs driver v1", "10:cpu,cpuacct:/kubepods/burstable/pod8e7a2b1c-3d4e-4f5a-9b6c-7d8e9f0a1b2c/" + idA + "\n", idA},
		{"containerd systemd path with colons", "0::/system.slice/containerd.service/" +
			"kubepods-burstable-pod8e7a2b1c_3d4e.slice:cri-containerd:" + idA + "\n", idA},
		{"podman rootless v2 nested container", "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + idA + ".scope/container\n", idA},
		{"podman rootful v2", "0::/machine.slice/libpod-" + idA + ".scope\n", idA},
		{"ecs v1", "9:perf_event:/ecs/5a081c13-b8cf-4801-b427-f4601742204d/" + idA + "\n", idA},
		{"docker in docker: innermost", "0::/docker/" + idA + "/docker/" + idB + "\n", idB},
		{"first line with an id wins", "3:memory:/\n2:cpu:/docker/" + idB + "\n1:pids:/docker/" + idA + "\n", idB},
		{"no trailing newline", "0::/system.slice/docker-" + idB + ".scope", idB},
		{"conmon is not the container", "0::/machine.slice/libpod-conmon-" + idA + ".scope\n", ""},
		{"host process v2", "0::/user.slice/user-1000.slice/session-3.scope\n", ""},
		{"host service v1", "12:pids:/system.slice/sshd.service\n1:name=systemd:/system.slice/sshd.service\n", ""},
		{"cgroup namespace hides the path", "0::/\n", ""},
		{"63 hex digits", "0::/docker/" + idA[1:] + "\n", ""},
		{"uppercase hex", "0::/docker/" + strings.ToUpper(idA) + "\n", ""},
		{"id glued to a word", "0::/docker/x" + idA + "\n", ""},
		{"65 hex digits", "0::/docker/0" + idA + "\n", ""},
		{"not a cgroup line", idA + "\n", ""},
		{"one colon only", "0:/docker/" + idA + "\n", ""},
		{"empty file", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ContainerIDFromCgroup([]byte(tc.file)); got != tc.want {
				t.Fatalf("ContainerIDFromCgroup = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzContainerIDFromCgroup(f *testing.F) {
	f.Add([]byte("0::/system.slice/docker-" + idA + ".scope\n"))
	f.Add([]byte("12:pids:/docker/" + idA + "\n0::/\n"))
	f.Add([]byte("0::/a:b:c/" + idB))
	f.Fuzz(func(t *testing.T, data []byte) {
		id := ContainerIDFromCgroup(data)
		if id == "" {
			return
		}
		if len(id) != containerIDLen || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("returned %q, not a 64-hex id", id)
		}
		if !strings.Contains(string(data), id) {
			t.Fatalf("returned %q, which is not in the input", id)
		}
	})
}
