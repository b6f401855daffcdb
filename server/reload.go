package server

import (
	"fmt"

	"github.com/cachalotdb/cachalot/config"
)

// ReloadResult says what Reload did.
type ReloadResult struct {
	// Changed lists the run-time parameters that took a new value.
	Changed []string
	// NeedRestart lists parameters whose new value was ignored because a
	// running server cannot apply it (CONFIG SET refuses them too).
	NeedRestart []string
}

// Reload applies the run-time parameters of next (typically the config file
// read again on SIGHUP) through the same path CONFIG SET uses: only
// parameters CONFIG SET may change are taken, the result is validated as a
// whole, swapped in atomically and its side effects applied. On error
// nothing changes.
func (s *Server) Reload(next *config.Config) (ReloadResult, error) {
	var res ReloadResult
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	old := s.Config()
	merged := old.Clone()
	for _, p := range config.Params() {
		oldValue, _ := old.Get(p.Name)
		newValue, _ := next.Get(p.Name)
		if oldValue == newValue {
			continue
		}
		if !p.Mutable {
			res.NeedRestart = append(res.NeedRestart, p.Name)
			continue
		}
		if err := merged.Set(p.Name, newValue); err != nil {
			return ReloadResult{}, fmt.Errorf("reload: %w", err)
		}
		res.Changed = append(res.Changed, p.Name)
	}
	if err := merged.Validate(); err != nil {
		return ReloadResult{}, fmt.Errorf("reload: %w", err)
	}
	if len(res.Changed) > 0 {
		s.cfg.Store(merged)
		s.applyConfig(old, merged)
	}
	return res, nil
}
