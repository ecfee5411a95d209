package chunkqueryextension

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.uber.org/zap"

	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/eval"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/metadata"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/store"
	"github.com/doghouse-otel/doghouse/extension/chunkqueryextension/internal/webui"
)

// chunkQuery is the extension: the store and engine over the directory, and the HTTP server.
type chunkQuery struct {
	cfg    *Config
	set    extension.Settings
	tel    *metadata.TelemetryBuilder
	store  *store.Store
	engine *eval.Engine
	mux    *http.ServeMux

	mu     sync.Mutex
	server *http.Server
	addr   string
	done   chan struct{}
}

func newExtension(cfg *Config, set extension.Settings) (*chunkQuery, error) {
	tel, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	st := store.New(store.Options{Dir: cfg.Directory, RescanInterval: cfg.RescanInterval})
	e := &chunkQuery{
		cfg: cfg, set: set, tel: tel, store: st,
		engine: eval.New(st, eval.Limits{
			MaxSeries: cfg.Limits.MaxSeries, MaxSamples: cfg.Limits.MaxSamples,
			MaxSteps: cfg.Limits.MaxSteps, MaxPoints: cfg.Limits.MaxPoints,
		}, cfg.LookbackDelta),
		mux: http.NewServeMux(),
	}
	(&promAPI{ext: e}).routes(e.mux)
	(&openTSDBAPI{ext: e}).routes(e.mux)
	e.mux.Handle("/", webui.Handler()) // the GUI; everything under /api/ is the API's
	return e, nil
}

// Handler returns the extension's HTTP handler (API and GUI), for a component that serves it
// on a port of its own (the dsdb receiver's one port).
func (e *chunkQuery) Handler() http.Handler { return e.mux }

// Start listens on the configured endpoint and serves.
func (e *chunkQuery) Start(ctx context.Context, host component.Host) error {
	ln, err := e.cfg.ServerConfig.ToListener(ctx)
	if err != nil {
		return err
	}
	srv, err := e.cfg.ServerConfig.ToServer(ctx, host.GetExtensions(), e.set.TelemetrySettings, e.mux)
	if err != nil {
		ln.Close()
		return err
	}
	e.mu.Lock()
	e.server, e.done, e.addr = srv, make(chan struct{}), ln.Addr().String()
	e.mu.Unlock()
	e.set.Logger.Info("Serving the chunk store", zap.String("endpoint", ln.Addr().String()), zap.String("directory", e.cfg.Directory))
	go func(ln net.Listener, done chan struct{}) {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.set.Logger.Error("chunkquery server stopped", zap.Error(err))
		}
	}(ln, e.done)
	return nil
}

// Addr returns the address the server listens on, once started.
func (e *chunkQuery) Addr() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addr
}

// Shutdown stops the server and closes the files.
func (e *chunkQuery) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	srv, done := e.server, e.done
	e.server = nil
	e.mu.Unlock()
	var errs error
	if srv != nil {
		errs = srv.Shutdown(ctx)
		<-done
	}
	e.tel.Shutdown()
	return errors.Join(errs, e.store.Close())
}
