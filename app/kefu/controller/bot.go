package controller

import (
	"fmt"
	"log/slog"
	"sync"

	"msgo/app/kefu/bot"
	"msgo/app/kefu/model"
	"msgo/framework"
)

// BotEvent is the event of the frames that stream a bot's answer.
const BotEvent = "kefu.bot"

// Bot.Ask limits.
const (
	MaxSessionIDLen   = 128  // characters of session_id
	DefaultMaxAnswers = 1000 // answers streaming at once on a node
	MaxAnswersPerConn = 3    // answers streaming at once to one connection
)

// botApology ends an answer the bot could not finish.
const botApology = "Sorry, the assistant cannot answer right now. Please leave a message for an agent."

// Bot is kefu.bot.*: questions to a bot, answered as a stream.
type Bot struct {
	bot  bot.Bot
	log  *slog.Logger
	slot chan struct{} // one token per answer streaming
	wg   sync.WaitGroup

	mu      sync.Mutex
	perConn map[framework.ConnID]int // answers streaming, by connection
}

// NewBot returns the Bot controller over b. At most maxAnswers answers
// stream at once on the node (DefaultMaxAnswers when 0), a question beyond
// that answers 503; at most MaxAnswersPerConn to one connection, beyond
// that 429.
func NewBot(b bot.Bot, maxAnswers int, log *slog.Logger) *Bot {
	if maxAnswers <= 0 {
		maxAnswers = DefaultMaxAnswers
	}
	return &Bot{bot: b, log: log, slot: make(chan struct{}, maxAnswers), perConn: make(map[framework.ConnID]int)}
}

// chunk is the param of a kefu.bot frame.
type chunk struct {
	SessionID string `json:"session_id"`
	Message   string `json:"message"`
	Complete  bool   `json:"complete"`
}

// Ask is kefu.bot.ask: message (1..2000 characters) is the question,
// session_id (1..128 characters, the client's) is echoed in every frame.
// The answer streams as kefu.bot frames carrying the request's id, each
// {"session_id","message":"<chunk>","complete":false}, and ends with one
// whose message is empty and complete is true. A client that disconnects
// stops the bot; nothing more is sent.
//
// The handler returns at once and the bot runs on a goroutine of its own,
// so the connection's other requests are answered while it streams.
func (h *Bot) Ask(c *framework.Context) error {
	var p struct {
		Message   *string `json:"message"`
		SessionID *string `json:"session_id"`
	}
	if err := c.Bind(&p); err != nil {
		return err
	}
	question, err := text("message", p.Message, model.MaxMsgLen)
	if err != nil {
		return err
	}
	session, err := text("session_id", p.SessionID, MaxSessionIDLen)
	if err != nil {
		return err
	}
	conn := c.Client().ID()
	if err := h.acquire(conn); err != nil {
		return err
	}
	st, err := c.Stream(BotEvent)
	if err != nil {
		h.release(conn)
		return err
	}
	q := bot.Question{OpenID: c.Client().UserID(), SessionID: session, Text: question}
	h.wg.Go(func() {
		defer h.release(conn)
		defer st.Close()
		h.answer(st, q)
	})
	return nil
}

// acquire takes a slot for one more answer to conn.
func (h *Bot) acquire(conn framework.ConnID) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.perConn[conn] >= MaxAnswersPerConn {
		return framework.Errorf(framework.StatusTooMany, "%d answers are already streaming on this connection", MaxAnswersPerConn)
	}
	select {
	case h.slot <- struct{}{}:
	default:
		return framework.Errorf(framework.StatusUnavailable, "the bot is busy, try again")
	}
	h.perConn[conn]++
	return nil
}

func (h *Bot) release(conn framework.ConnID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	<-h.slot
	if h.perConn[conn]--; h.perConn[conn] == 0 {
		delete(h.perConn, conn)
	}
}

// answer streams the bot's answer to q on st and ends it with the
// complete frame, unless the client left (or the server stops) first.
func (h *Bot) answer(st *framework.Stream, q bot.Question) {
	send := func(text string, complete bool) error {
		return st.Send(chunk{SessionID: q.SessionID, Message: text, Complete: complete})
	}
	var sendErr error // the connection's: it is closing
	err := h.ask(st, q, func(text string) error {
		sendErr = send(text, false)
		return sendErr
	})
	if st.Context().Err() != nil || sendErr != nil {
		return // the client left: nobody to tell
	}
	if err != nil {
		h.log.Warn("kefu: bot failed", "session", q.SessionID, "err", err)
		if send(botApology, false) != nil {
			return
		}
	}
	send("", true)
}

// ask runs the bot, turning a panic into an error so that one bad answer
// ends its stream instead of the process.
func (h *Bot) ask(st *framework.Stream, q bot.Question, emit func(string) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bot panicked: %v", p)
		}
	}()
	return h.bot.Answer(st.Context(), q, emit)
}

// Close waits for the answers still streaming; they end when their
// clients leave, so call it after the server stopped.
func (h *Bot) Close() { h.wg.Wait() }
