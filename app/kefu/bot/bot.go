package bot

import "context"

// Question is what a WeChat user asked with kefu.bot.ask.
type Question struct {
	OpenID    string // who asks (the token's id)
	SessionID string // the client's bot session, echoed in every chunk
	Text      string // the question, 1 to 2000 characters
}

// Bot answers questions for kefu.bot.ask, as a stream of text chunks.
// Implementations are called concurrently, for different questions.
type Bot interface {
	// Answer produces the answer to q in order, calling emit with each
	// chunk as it becomes available; the chunks concatenated are the
	// answer. It returns nil once the answer is complete, emit's error when
	// emit fails, or ctx.Err() as soon as ctx is done (the user left): a
	// bot stops working for a user who is gone. It never calls emit after
	// it returned, nor from two goroutines at once.
	Answer(ctx context.Context, q Question, emit func(chunk string) error) error
}
