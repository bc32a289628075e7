package kefu_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"msgo/app/kefu"
	"msgo/app/kefu/bot"
	"msgo/framework/msgotest"
	"msgo/library/db/dbtest"
)

// botChunk is a kefu.bot frame's param.
type botChunk struct {
	SessionID string `json:"session_id"`
	Message   string `json:"message"`
	Complete  *bool  `json:"complete"`
}

// streamed collects the frames answering id up to the complete one, checks
// their shape, and returns the answer they spell.
func streamed(t testing.TB, cl *msgotest.Client, id json.RawMessage, session string) string {
	t.Helper()
	var answer strings.Builder
	for n := 0; ; n++ {
		r := cl.AwaitID(t, id)
		if r.Status != 200 || r.Event != "kefu.bot" {
			t.Fatalf("frame %d answering %s: %d %q %s", n, id, r.Status, r.Event, r.Info)
		}
		var c botChunk
		r.Decode(t, &c)
		if c.Complete == nil || c.SessionID != session {
			t.Fatalf("frame %d: %s, want session_id %q and complete", n, r.Param, session)
		}
		if *c.Complete {
			if c.Message != "" || n == 0 {
				t.Errorf("the complete frame %s after %d chunks: want an empty message after at least one chunk", r.Param, n)
			}
			return answer.String()
		}
		if c.Message == "" {
			t.Errorf("chunk %d is empty", n)
		}
		answer.WriteString(c.Message)
	}
}

// The bot streams its answer as kefu.bot frames with the request's id,
// ending with complete: true; the connection keeps working meanwhile.
func TestBotStreamsAnswer(t *testing.T) {
	t.Parallel()
	gdb := migrated(t, dbtest.SQLite(t))
	srv := startNode(t, kefu.Options{DB: gdb}, nil, "bot1")
	u := srv.Dial(t, user("o1"))

	id := u.Call(t, "kefu.bot.ask", map[string]any{"message": "How do I get a REFUND?", "session_id": "s-1"})
	if got, want := streamed(t, u, id, "s-1"), "Refunds reach you within 3 days. 退款三天内到账。"; got != want {
		t.Errorf("answer %q, want %q", got, want)
	}
	id = u.Call(t, "kefu.bot.ask", map[string]any{"message": "what's the weather?", "session_id": "s-1"})
	if got := streamed(t, u, id, "s-1"); got != "Sorry, no idea." {
		t.Errorf("unknown question: %q, want the fallback", got)
	}

	// Two at once, told apart by id and session_id, while the connection
	// answers other requests between the chunks.
	long := u.Call(t, "kefu.bot.ask", map[string]any{"message": "a long one", "session_id": "s-long"})
	u.AwaitID(t, long)
	short := u.Call(t, "kefu.bot.ask", map[string]any{"message": "退款", "session_id": "s-2"})
	history(t, u, nil)
	if got := streamed(t, u, short, "s-2"); !strings.HasPrefix(got, "Refunds") {
		t.Errorf("answer beside a long one: %q", got)
	}
	// A string id is echoed as a string.
	u.Write(t, []byte(`{"method":"kefu.bot.ask","id":"q-7","message":"refund","session_id":"s-3"}`))
	if got := streamed(t, u, json.RawMessage(`"q-7"`), "s-3"); !strings.HasPrefix(got, "Refunds") {
		t.Errorf("with a string id: %q", got)
	}
}

// watched is the real bot with a window on when its answers end.
type watched struct {
	bot.Bot
	ended chan error
}

func (w watched) Answer(ctx context.Context, q bot.Question, emit func(string) error) error {
	err := w.Bot.Answer(ctx, q, emit)
	w.ended <- err
	return err
}

// A client that disconnects mid-stream stops the bot; its slot is free
// again for others.
func TestBotStopsWhenClientLeaves(t *testing.T) {
	t.Parallel()
	faq, err := bot.LoadFAQ(writeFAQ(t, testFAQ))
	if err != nil {
		t.Fatal(err)
	}
	w := watched{Bot: faq, ended: make(chan error, 10)}
	gdb := migrated(t, dbtest.SQLite(t))
	srv := startNode(t, kefu.Options{DB: gdb, Bot: w, MaxAnswers: 1}, nil, "bot1")

	u := srv.Dial(t, user("o1"))
	id := u.Call(t, "kefu.bot.ask", map[string]any{"message": "long", "session_id": "s"})
	for range 3 {
		u.AwaitID(t, id)
	}
	// The one slot is taken: another user is told to come back.
	other := srv.Dial(t, user("o2"))
	expect(t, "ask while the bot is busy", other.Request(t, "kefu.bot.ask", map[string]any{"message": "refund", "session_id": "s"}), 503)

	u.Close()
	select {
	case err := <-w.ended:
		// Cancelled, or the write of its next chunk failed first: stopped
		// either way, long before the end of its answer.
		if err == nil {
			t.Error("the bot answered to the end for a client that left")
		}
	case <-time.After(msgotest.DefaultTimeout):
		t.Fatal("the bot kept answering a client that left")
	}
	// The slot is released once the answer's goroutine is done.
	deadline := time.Now().Add(msgotest.DefaultTimeout)
	for {
		id := other.Call(t, "kefu.bot.ask", map[string]any{"message": "refund", "session_id": "s"})
		r := other.AwaitID(t, id)
		if r.Status == 200 {
			other.AwaitMatch(t, "the complete frame", func(r msgotest.Reply) bool {
				return string(r.ID) == string(id) && strings.Contains(string(r.Param), `"complete":true`)
			})
			break
		}
		if r.Status != 503 || time.Now().After(deadline) {
			t.Fatalf("ask after the first client left: %d %s", r.Status, r.Info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// One connection streams a few answers at once, not more.
func TestBotAnswersPerConnection(t *testing.T) {
	t.Parallel()
	gdb := migrated(t, dbtest.SQLite(t))
	srv := startNode(t, kefu.Options{DB: gdb}, nil, "bot1")
	u := srv.Dial(t, user("o1"))
	for i := range 3 {
		id := u.Call(t, "kefu.bot.ask", map[string]any{"message": "long", "session_id": "s"})
		if r := u.AwaitID(t, id); r.Status != 200 {
			t.Fatalf("answer %d: %d %s", i+1, r.Status, r.Info)
		}
	}
	expect(t, "a fourth answer at once", u.Request(t, "kefu.bot.ask", map[string]any{"message": "long", "session_id": "s"}), 429)
	// Another connection of the same user is not held back.
	phone := srv.Dial(t, user("o1"))
	id := phone.Call(t, "kefu.bot.ask", map[string]any{"message": "refund", "session_id": "s"})
	streamed(t, phone, id, "s")
}
