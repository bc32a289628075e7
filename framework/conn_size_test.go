package framework

import (
	"testing"
	"unsafe"
)

// An idle node holds one conn per connection: a field added to it must not
// push it into the next allocation size class unnoticed.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 144 {
		t.Fatalf("conn is %d bytes, want at most 144", n)
	}
}
