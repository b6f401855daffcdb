package integration

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/tests/difftest"
	"github.com/go-redis/redis_rate/v10"
	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/redis/go-redis/v9"
)

// Transactions and scripts through unchanged client libraries.

func newTxClient(t *testing.T, addr string, poolSize int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: poolSize, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestGoRedisTxPipelined(t *testing.T) {
	srv := difftest.StartCachalot(t)
	ctx := context.Background()
	rdb := newTxClient(t, srv.Addr, 4)
	var incr *redis.IntCmd
	var get *redis.StringCmd
	cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "k", "41", 0)
		incr = p.Incr(ctx, "k")
		p.RPush(ctx, "l", "a", "b")
		get = p.Get(ctx, "k")
		return nil
	})
	if err != nil {
		t.Fatalf("TxPipelined: %v", err)
	}
	if len(cmds) != 4 || incr.Val() != 42 || get.Val() != "42" {
		t.Fatalf("TxPipelined: %d cmds, incr=%d get=%q", len(cmds), incr.Val(), get.Val())
	}
	// A run-time error inside the transaction fails only its command.
	_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "l")
		p.Incr(ctx, "k")
		return nil
	})
	if err == nil || !stringsContains(err.Error(), "WRONGTYPE") {
		t.Fatalf("TxPipelined with a WRONGTYPE command: err=%v", err)
	}
	if v, _ := rdb.Get(ctx, "k").Result(); v != "43" {
		t.Fatalf("k = %q after the partially failing transaction, want 43", v)
	}
}

func stringsContains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestGoRedisWatchContention increments one counter from 100 goroutines
// with WATCH/MULTI/EXEC and optimistic retries; every increment must land
// exactly once.
func TestGoRedisWatchContention(t *testing.T) {
	srv := difftest.StartCachalot(t)
	ctx := context.Background()
	rdb := newTxClient(t, srv.Addr, 120)
	const workers, each = 100, 5
	var retries atomic.Int64
	incr := func() error {
		for {
			err := rdb.Watch(ctx, func(tx *redis.Tx) error {
				n, err := tx.Get(ctx, "counter").Int()
				if err != nil && err != redis.Nil {
					return err
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, "counter", n+1, 0)
					return nil
				})
				return err
			}, "counter")
			if err == redis.TxFailedErr {
				retries.Add(1)
				continue
			}
			return err
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				if err := incr(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, err := rdb.Get(ctx, "counter").Int()
	if err != nil || n != workers*each {
		t.Fatalf("counter = %d (%v), want %d", n, err, workers*each)
	}
	t.Logf("%d increments, %d optimistic retries", n, retries.Load())
}

func TestGoRedisNewScript(t *testing.T) {
	srv := difftest.StartCachalot(t)
	ctx := context.Background()
	rdb := newTxClient(t, srv.Addr, 4)
	sc := redis.NewScript(`return redis.call('incrby', KEYS[1], ARGV[1])`)
	// Not loaded yet: Run sends EVALSHA, gets NOSCRIPT, falls back to EVAL.
	if err := rdb.EvalSha(ctx, sc.Hash(), []string{"n"}, 1).Err(); err == nil || !redis.HasErrorPrefix(err, "NOSCRIPT") {
		t.Fatalf("EVALSHA before load: %v, want NOSCRIPT", err)
	}
	for i := 1; i <= 3; i++ {
		v, err := sc.Run(ctx, rdb, []string{"n"}, 10).Int()
		if err != nil || v != 10*i {
			t.Fatalf("Run #%d = %d, %v", i, v, err)
		}
	}
	ok, err := sc.Exists(ctx, rdb).Result()
	if err != nil || len(ok) != 1 || !ok[0] {
		t.Fatalf("SCRIPT EXISTS after Run = %v, %v", ok, err)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := sc.Run(ctx, rdb, []string{"n"}, 1).Int(); err != nil || v != 31 {
		t.Fatalf("Run after SCRIPT FLUSH = %d, %v", v, err)
	}
}

func TestRedisRate(t *testing.T) {
	srv := difftest.StartCachalot(t)
	ctx := context.Background()
	rdb := newTxClient(t, srv.Addr, 4)
	lim := redis_rate.NewLimiter(rdb)
	// 10 per hour with a burst of 10: the first 10 pass, the 11th waits
	// about 6 minutes, so the test never depends on wall-clock speed.
	limit := redis_rate.Limit{Rate: 10, Burst: 10, Period: time.Hour}
	for i := 0; i < 10; i++ {
		res, err := lim.Allow(ctx, "rl:user", limit)
		if err != nil {
			t.Fatalf("Allow #%d: %v", i+1, err)
		}
		if res.Allowed != 1 || res.Remaining != 9-i {
			t.Fatalf("Allow #%d: allowed=%d remaining=%d", i+1, res.Allowed, res.Remaining)
		}
	}
	res, err := lim.Allow(ctx, "rl:user", limit)
	if err != nil {
		t.Fatal(err)
	}
	if res.Allowed != 0 || res.Remaining != 0 || res.RetryAfter < 5*time.Minute || res.RetryAfter > 6*time.Minute {
		t.Fatalf("11th Allow: allowed=%d remaining=%d retryAfter=%v", res.Allowed, res.Remaining, res.RetryAfter)
	}
	// A fast rate: after the burst, one more is allowed once its interval
	// has passed (polling with a generous deadline).
	fast := redis_rate.Limit{Rate: 20, Burst: 2, Period: time.Second}
	for i := 0; i < 2; i++ {
		if r, err := lim.Allow(ctx, "rl:fast", fast); err != nil || r.Allowed != 1 {
			t.Fatalf("fast burst #%d: %+v %v", i+1, r, err)
		}
	}
	if r, err := lim.Allow(ctx, "rl:fast", fast); err != nil || r.Allowed != 0 {
		t.Fatalf("fast after burst: %+v %v", r, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := lim.Allow(ctx, "rl:fast", fast)
		if err != nil {
			t.Fatal(err)
		}
		if r.Allowed == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rate never allowed another request")
		}
		time.Sleep(r.RetryAfter)
	}
	// AllowN and Reset.
	if err := lim.Reset(ctx, "rl:user"); err != nil {
		t.Fatal(err)
	}
	if r, err := lim.AllowN(ctx, "rl:user", limit, 4); err != nil || r.Allowed != 4 || r.Remaining != 6 {
		t.Fatalf("AllowN 4 after Reset: %+v %v", r, err)
	}
}

func TestRedsyncMutualExclusion(t *testing.T) {
	srv := difftest.StartCachalot(t)
	ctx := context.Background()
	rdb := newTxClient(t, srv.Addr, 40)
	rs := redsync.New(goredis.NewPool(rdb))
	const workers = 20
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			m := rs.NewMutex("lock:shared", redsync.WithExpiry(30*time.Second),
				redsync.WithTries(2000), redsync.WithRetryDelay(5*time.Millisecond))
			if err := m.LockContext(ctx); err != nil {
				errs <- err
				return
			}
			n := inside.Add(1)
			for {
				old := maxInside.Load()
				if n <= old || maxInside.CompareAndSwap(old, n) {
					break
				}
			}
			// A read-modify-write the lock must protect.
			v, _ := rdb.Get(ctx, "protected").Int()
			time.Sleep(time.Millisecond)
			rdb.Set(ctx, "protected", strconv.Itoa(v+1), 0)
			inside.Add(-1)
			if ok, err := m.UnlockContext(ctx); !ok || err != nil {
				errs <- errors.Join(errors.New("unlock failed"), err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if maxInside.Load() != 1 {
		t.Fatalf("%d goroutines held the lock at once", maxInside.Load())
	}
	if v, _ := rdb.Get(ctx, "protected").Int(); v != workers {
		t.Fatalf("protected = %d, want %d", v, workers)
	}
	// A lock held by someone else is refused; an expired one is free.
	a := rs.NewMutex("lock:x", redsync.WithExpiry(time.Hour), redsync.WithTries(1))
	b := rs.NewMutex("lock:x", redsync.WithExpiry(time.Hour), redsync.WithTries(1))
	if err := a.Lock(); err != nil {
		t.Fatal(err)
	}
	if err := b.Lock(); err == nil {
		t.Fatal("a second holder got the lock")
	}
	if ok, err := b.Unlock(); ok || err == nil {
		t.Fatalf("a non-holder unlocked the lock: %v %v", ok, err)
	}
	if ok, err := a.Extend(); !ok || err != nil {
		t.Fatalf("Extend: %v %v", ok, err)
	}
	if ok, err := a.Unlock(); !ok || err != nil {
		t.Fatalf("Unlock: %v %v", ok, err)
	}
}
