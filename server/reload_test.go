package server

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

func newReloadServer(t *testing.T) (*Server, *slog.LevelVar) {
	t.Helper()
	st, err := store.New(store.Options{Databases: 16, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	var level slog.LevelVar
	return New(Options{Config: config.Default(), Store: st, LogLevel: &level}), &level
}

func TestReload(t *testing.T) {
	tests := []struct {
		name        string
		edit        map[string]string
		changed     []string
		needRestart []string
	}{
		{"nothing changed", nil, nil, nil},
		{"run-time parameters", map[string]string{"maxclients": "77", "loglevel": "debug", "timeout": "30"},
			[]string{"maxclients", "timeout", "loglevel"}, nil},
		{"restart-only parameters are reported, not applied", map[string]string{"databases": "4", "port": "7000", "hz": "20"},
			[]string{"hz"}, []string{"port", "databases"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, level := newReloadServer(t)
			before := srv.Config()
			next := config.Default()
			for k, v := range tt.edit {
				if err := next.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			res, err := srv.Reload(next)
			if err != nil {
				t.Fatalf("Reload: %v", err)
			}
			if !slices.Equal(res.Changed, tt.changed) || !slices.Equal(res.NeedRestart, tt.needRestart) {
				t.Errorf("Reload = changed %v, need restart %v; want %v, %v", res.Changed, res.NeedRestart, tt.changed, tt.needRestart)
			}
			after := srv.Config()
			for _, name := range tt.changed {
				want, _ := next.Get(name)
				if got, _ := after.Get(name); got != want {
					t.Errorf("%s = %q after reload, want %q", name, got, want)
				}
			}
			for _, name := range tt.needRestart {
				was, _ := before.Get(name)
				if got, _ := after.Get(name); got != was {
					t.Errorf("%s changed to %q, but needs a restart", name, got)
				}
			}
			if len(tt.changed) == 0 && after != before {
				t.Error("a reload that changed nothing replaced the configuration")
			}
			if tt.edit["loglevel"] == "debug" && level.Level() != slog.LevelDebug {
				t.Errorf("log level %v after reloading loglevel debug", level.Level())
			}
		})
	}
}

func TestReloadRefusesInvalidConfig(t *testing.T) {
	srv, _ := newReloadServer(t)
	before := srv.Config()
	next := config.Default()
	next.Maxclients = 0 // outside 1..UINT_MAX; fields can be set directly
	next.Hz = 50
	if _, err := srv.Reload(next); err == nil || !strings.Contains(err.Error(), "maxclients") {
		t.Fatalf("Reload with maxclients 0: %v, want an error naming maxclients", err)
	}
	if srv.Config() != before {
		t.Error("a refused reload changed the configuration")
	}
}

// TestShutdownReleasesIdleAndBlockedClients: idle connections and clients
// parked in BLPOP do not hold up a graceful stop.
func TestShutdownReleasesIdleAndBlockedClients(t *testing.T) {
	srv, addr, _ := startTestServer(t, nil)
	idle := dialRaw(t, addr)
	if got := idle.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING: %q", got)
	}
	blocked := dialRaw(t, addr)
	blocked.nc.Write(encodeRESP([]byte("BLPOP"), []byte("nothing"), []byte("0")))
	deadline := time.Now().Add(10 * time.Second)
	for srv.blocking.parked.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if forced := srv.Shutdown(30 * time.Second); forced != 0 {
		t.Errorf("Shutdown closed %d connections by force, want 0", forced)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("Shutdown took %v", took)
	}
	if _, err := idle.nc.Read(make([]byte, 1)); err == nil {
		t.Error("idle connection still open after Shutdown")
	}
}
