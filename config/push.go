package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Keyspace notification classes (notify-keyspace-events), Redis's
// NOTIFY_* bits.
const (
	NotifyKeyspace = 1 << iota // K
	NotifyKeyevent             // E
	NotifyGeneric              // g
	NotifyString               // $
	NotifyList                 // l
	NotifySet                  // s
	NotifyHash                 // h
	NotifyZset                 // z
	NotifyExpired              // x
	NotifyEvicted              // e
	NotifyStream               // t
	NotifyKeyMiss              // m
	NotifyModule               // d
	NotifyNew                  // n

	NotifyAll = NotifyGeneric | NotifyString | NotifyList | NotifySet | NotifyHash |
		NotifyZset | NotifyExpired | NotifyEvicted | NotifyStream | NotifyModule
)

var notifyLetters = []struct {
	c    byte
	flag int
}{
	{'g', NotifyGeneric}, {'$', NotifyString}, {'l', NotifyList}, {'s', NotifySet},
	{'h', NotifyHash}, {'z', NotifyZset}, {'x', NotifyExpired}, {'e', NotifyEvicted},
	{'t', NotifyStream}, {'d', NotifyModule}, {'n', NotifyNew},
}

// ParseNotifyFlags reads notify-keyspace-events letters.
func ParseNotifyFlags(s string) (int, error) {
	flags := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'A':
			flags |= NotifyAll
		case 'K':
			flags |= NotifyKeyspace
		case 'E':
			flags |= NotifyKeyevent
		case 'm':
			flags |= NotifyKeyMiss
		default:
			found := false
			for _, l := range notifyLetters {
				if l.c == s[i] {
					flags |= l.flag
					found = true
				}
			}
			if !found {
				return 0, errors.New("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
			}
		}
	}
	return flags, nil
}

// FormatNotifyFlags writes flags as Redis's CONFIG GET does.
func FormatNotifyFlags(flags int) string {
	var b []byte
	if flags&NotifyAll == NotifyAll {
		b = append(b, 'A')
	} else {
		for _, l := range notifyLetters {
			if flags&l.flag != 0 {
				b = append(b, l.c)
			}
		}
	}
	if flags&NotifyKeyspace != 0 {
		b = append(b, 'K')
	}
	if flags&NotifyKeyevent != 0 {
		b = append(b, 'E')
	}
	if flags&NotifyKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

func notifyKeyspaceEventsParam() Param {
	return Param{
		Name: "notify-keyspace-events", Help: "keyspace notification classes (Redis's flag letters K E g $ l s h z x e t m d n A); empty disables",
		Mutable: true, kind: kindString, metavar: "FLAGS",
		get: func(c *Config) string { return FormatNotifyFlags(c.NotifyKeyspaceEvents) },
		set: func(c *Config, v string) error {
			f, err := ParseNotifyFlags(v)
			if err != nil {
				return err
			}
			c.NotifyKeyspaceEvents = f
			return nil
		},
	}
}

// DefaultClientOutputBufferLimit is Redis's default, as CONFIG GET prints it.
const DefaultClientOutputBufferLimit = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"

// clientOutputBufferLimitParam keeps the three classes in CONFIG GET's
// canonical form; CONFIG SET may name any subset.
func clientOutputBufferLimitParam() Param {
	return Param{
		Name: "client-output-buffer-limit", Help: "output buffer limits per client class: <class> <hard> <soft> <soft-seconds> ... (class normal, replica or pubsub)",
		Mutable: true, kind: kindString, metavar: "LIMITS",
		get: func(c *Config) string { return c.ClientOutputBufferLimit },
		set: func(c *Config, v string) error {
			cur := c.ClientOutputBufferLimit
			if cur == "" {
				cur = DefaultClientOutputBufferLimit
			}
			classes := strings.Fields(cur)
			f := strings.Fields(v)
			if len(f)%4 != 0 {
				return errors.New("Wrong number of arguments in buffer limit configuration.")
			}
			for i := 0; i < len(f); i += 4 {
				idx := -1
				switch strings.ToLower(f[i]) {
				case "normal":
					idx = 0
				case "slave", "replica":
					idx = 4
				case "pubsub":
					idx = 8
				default:
					return errors.New("Invalid client class specified in buffer limit configuration.")
				}
				h, err1 := ParseMemory(f[i+1])
				s, err2 := ParseMemory(f[i+2])
				sec, err3 := strconv.ParseInt(f[i+3], 10, 64)
				if err1 != nil || err2 != nil || err3 != nil || h < 0 || s < 0 || sec < 0 {
					return errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
				}
				classes[idx+1] = strconv.FormatInt(h, 10)
				classes[idx+2] = strconv.FormatInt(s, 10)
				classes[idx+3] = strconv.FormatInt(sec, 10)
			}
			c.ClientOutputBufferLimit = strings.Join(classes, " ")
			return nil
		},
	}
}

func trackingTableMaxKeysParam() Param {
	return int64Param("tracking-table-max-keys", "keys remembered for client-side caching (CLIENT TRACKING); past it, keys are forgotten and their clients told to drop them; 0 means no limit", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.TrackingTableMaxKeys })
}
