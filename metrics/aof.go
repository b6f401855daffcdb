package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cachalotdb/cachalot/server"
)

// Persistence metrics: redis_exporter's names for the INFO persistence
// fields, and cachalot's own for the group commit.
var (
	descAOFEnabled        = desc("redis_aof_enabled", "1 when appendonly is on (and its first base is written).")
	descAOFRewriting      = desc("redis_aof_rewrite_in_progress", "1 while an AOF rewrite runs.")
	descAOFScheduled      = desc("redis_aof_rewrite_scheduled", "1 when a rewrite waits for the running one.")
	descAOFLastRewriteDur = desc("redis_aof_last_rewrite_duration_seconds", "Seconds the last AOF rewrite took; -1 before the first.")
	descAOFCurRewriteDur  = desc("redis_aof_current_rewrite_duration_seconds", "Seconds the running AOF rewrite has taken; -1 when none runs.")
	descAOFLastBgrewrite  = desc("redis_aof_last_bgrewrite_status", "1 when the last AOF rewrite succeeded.")
	descAOFLastWrite      = desc("redis_aof_last_write_status", "1 when the last AOF write succeeded; 0 while writes get -MISCONF.")
	descAOFCurrentSize    = desc("redis_aof_current_size_bytes", "Size of the AOF (base and incremental files).")
	descAOFBaseSize       = desc("redis_aof_base_size_bytes", "Size of the AOF after the last rewrite or start.")
	descAOFBufferLength   = desc("redis_aof_buffer_length", "Bytes appended to the AOF and not yet written.")
	descAOFDelayedFsync   = desc("redis_aof_delayed_fsync", "Times writes waited for a slow background fsync (everysec).")
	descLoading           = desc("redis_loading_dump_file", "1 while the AOF is being loaded.")
	descAOFRewrites       = desc("cachalot_aof_rewrites_total", "Successful AOF rewrites.")
	descAOFWritten        = desc("cachalot_aof_written_bytes_total", "Bytes written to incremental AOF files since they were opened.")
	descAOFFsync          = desc("cachalot_aof_fsync_duration_seconds", "Duration of each fsync of the AOF.")
	descAOFBatch          = desc("cachalot_aof_group_commit_commands", "Commands written and fsynced together by one group commit.")
)

var aofDescs = []*prometheus.Desc{descAOFEnabled, descAOFRewriting, descAOFScheduled, descAOFLastRewriteDur,
	descAOFCurRewriteDur, descAOFLastBgrewrite, descAOFLastWrite, descAOFCurrentSize, descAOFBaseSize,
	descAOFBufferLength, descAOFDelayedFsync, descLoading, descAOFRewrites, descAOFWritten, descAOFFsync, descAOFBatch}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func collectAOF(ch chan<- prometheus.Metric, m server.AOFMetrics) {
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(descAOFEnabled, b2f(m.Enabled))
	gauge(descAOFRewriting, b2f(m.RewriteInProgress))
	gauge(descAOFScheduled, b2f(m.RewriteScheduled))
	gauge(descAOFLastRewriteDur, float64(m.LastRewriteSeconds))
	gauge(descAOFCurRewriteDur, float64(m.CurrentRewriteSecs))
	gauge(descAOFLastBgrewrite, b2f(m.LastRewriteOK))
	gauge(descAOFLastWrite, b2f(m.LastWriteOK))
	gauge(descAOFCurrentSize, float64(m.CurrentSize))
	gauge(descAOFBaseSize, float64(m.BaseSize))
	gauge(descAOFBufferLength, float64(m.BufferLength))
	gauge(descAOFDelayedFsync, float64(m.DelayedFsyncs))
	gauge(descLoading, b2f(m.Loading))
	counter(descAOFRewrites, float64(m.Rewrites))
	counter(descAOFWritten, float64(m.WrittenBytes))
	for _, h := range []struct {
		d *prometheus.Desc
		h server.Histogram
	}{{descAOFFsync, m.FsyncSeconds}, {descAOFBatch, m.GroupCommitCommands}} {
		buckets := make(map[float64]uint64, len(h.h.Bounds))
		for i, b := range h.h.Bounds {
			buckets[b] = h.h.Cumulative[i]
		}
		ch <- prometheus.MustNewConstHistogram(h.d, h.h.Count, h.h.Sum, buckets)
	}
}
