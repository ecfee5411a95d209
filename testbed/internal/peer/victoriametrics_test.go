package peer

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/doghouse-otel/doghouse/testbed/internal/collector"
	"github.com/doghouse-otel/doghouse/testbed/internal/loadgen"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestInserted(t *testing.T) {
	sc, err := collector.ParseProm(strings.NewReader(`vm_rows_inserted_total{type="opentsdb"} 1000
vm_rows_inserted_total{type="opentsdbhttp"} 200
vm_rows_inserted_total{type="promremotewrite"} 7
`))
	if err != nil {
		t.Fatal(err)
	}
	if telnet, http := Inserted(sc); telnet != 1000 || http != 200 {
		t.Fatalf("telnet %v, http %v", telnet, http)
	}
}

// TestVictoriaMetricsTakesBothOnOnePort: the peer as scenario 9 runs it takes put lines and
// /api/put on its OpenTSDB port and counts them. Skipped where victoria-metrics is not
// installed (scenario 9 installs it).
func TestVictoriaMetricsTakesBothOnOnePort(t *testing.T) {
	bin, err := exec.LookPath(VictoriaMetricsBinary)
	if err != nil {
		t.Skip("victoria-metrics is not installed")
	}
	vm, err := StartVictoriaMetrics(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Proc.Stop(30 * time.Second)
	start := time.Now().Add(-time.Hour)
	if err := loadgen.SendTelnet(context.Background(), vm.OpenTSDBAddr, loadgen.PutLines(10, 100, start), 1); err != nil {
		t.Fatal(err)
	}
	if r := loadgen.SendPuts(context.Background(), "http://"+vm.OpenTSDBAddr+"/api/put", loadgen.PutBodies(10, 10, 3, start), 3, 1); r.OK != 3 {
		t.Fatalf("%+v", r)
	}
	var telnet, http float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		sc, err := collector.ScrapeURL(vm.MetricsURL(), 5*time.Second)
		if err == nil {
			if telnet, http = Inserted(sc); telnet == 100 && http == 30 {
				break
			}
		}
	}
	if telnet != 100 || http != 30 {
		t.Fatalf("inserted %v telnet rows and %v HTTP rows, want 100 and 30", telnet, http)
	}
	if v := VictoriaMetricsVersion(bin); !strings.HasPrefix(v, "VictoriaMetrics") && !strings.Contains(v, "victoria") {
		t.Fatalf("version %q", v)
	}
}
