package config

import (
	"errors"
	"strings"
)

// maxKeyPrefixes bounds metrics-key-prefixes: every lookup compares the key
// with each prefix, so the list must stay small.
const maxKeyPrefixes = 32

// metricsKeyPrefixesParam declares "metrics-key-prefixes" (cachalot only):
// key prefixes whose hits, misses and evictions are counted separately for
// the metrics endpoint. In TOML it is an array of strings; on the command
// line and in CONFIG SET a comma-separated list (spaces separate too). It is
// stored, and printed by CONFIG GET, comma-separated, deduplicated, in the
// order given.
func metricsKeyPrefixesParam() Param {
	return Param{
		Name:    "metrics-key-prefixes",
		Help:    `comma-separated key prefixes with their own hit, miss and eviction counters on /metrics, e.g. "session:,user:" (cachalot only; at most 32)`,
		Mutable: true, kind: kindList, metavar: "PREFIXES",
		get: func(c *Config) string { return c.MetricsKeyPrefixes },
		set: func(c *Config, v string) error {
			list, err := parseKeyPrefixes(v)
			if err != nil {
				return err
			}
			c.MetricsKeyPrefixes = strings.Join(list, ",")
			return nil
		},
	}
}

func parseKeyPrefixes(v string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		dup := false
		for _, p := range out {
			dup = dup || p == f
		}
		if !dup {
			out = append(out, f)
		}
	}
	if len(out) > maxKeyPrefixes {
		return nil, errors.New("argument must name at most 32 prefixes")
	}
	return out, nil
}

// KeyPrefixes returns metrics-key-prefixes as a list.
func (c *Config) KeyPrefixes() []string {
	if c.MetricsKeyPrefixes == "" {
		return nil
	}
	return strings.Split(c.MetricsKeyPrefixes, ",")
}
