package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

// redisError stands in for a reply error from Redis.
type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

func TestUnavailable(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{dial, true},
		{fmt.Errorf("wrapped: %w", dial), true},
		{io.EOF, true},
		{io.ErrUnexpectedEOF, true},
		{redis.ErrClosed, true},
		{redis.ErrPoolTimeout, true},
		{context.DeadlineExceeded, true},
		{syscall.ECONNRESET, true},
		{redisError("LOADING Redis is loading the dataset in memory"), true},
		{redisError("READONLY You can't write against a read only replica."), true},
		{errors.New("dial tcp: connection refused"), true},
		{redis.Nil, false},
		{context.Canceled, false},
		{redisError("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{redisError("ERR value is not an integer or out of range"), false},
	} {
		if got := unavailable(tc.err); got != tc.want {
			t.Errorf("unavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
