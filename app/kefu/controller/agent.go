package controller

import (
	"time"

	"msgo/app/kefu/model"
	"msgo/app/kefu/service"
	"msgo/framework"
)

// Agent is kefu.agent.*: the agents' view of each other.
type Agent struct {
	store   *model.Store
	timeout time.Duration
}

// NewAgent returns the Agent controller; timeout bounds each request's
// database work (DefaultTimeout when 0).
func NewAgent(store *model.Store, timeout time.Duration) *Agent {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Agent{store: store, timeout: timeout}
}

type agentEntry struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
	Sessions int64  `json:"sessions"` // conversations assigned to it
}

type agentsReply struct {
	Agents []agentEntry `json:"agents"`
	Me     agentEntry   `json:"me"` // the caller, as the others see it
}

// List is kefu.agent.list: every agent online on any node, the caller
// included, ordered by id, each once however many devices, with how many
// conversations it is assigned; these are who a conversation can be
// transferred to. me is the caller, so a console knows which
// conversations are its own.
func (h *Agent) List(c *framework.Context) error {
	ctx, cancel := dbContext(c, h.timeout)
	defer cancel()
	members, err := c.App().GroupMembers(ctx, service.AgentsGroup, 0)
	if err != nil {
		return err
	}
	out := make([]agentEntry, 0, len(members))
	ids := make([]string, 0, len(members))
	for _, m := range members {
		if m.Type == framework.TypeKefu {
			out = append(out, agentEntry{ID: m.ID, Nickname: m.Nickname})
			ids = append(ids, m.ID)
		}
	}
	cl := c.Client()
	me := agentEntry{ID: cl.UserID(), Nickname: cl.Nickname()}
	loads, err := h.store.AgentLoads(ctx, append(ids, me.ID))
	if err != nil {
		return err
	}
	for i := range out {
		out[i].Sessions = loads[out[i].ID]
	}
	me.Sessions = loads[me.ID]
	return c.Success(okInfo, agentsReply{Agents: out, Me: me})
}

// Canned is kefu.canned.*: the replies agents insert with a click.
type Canned struct {
	replies []string
}

// NewCanned returns the Canned controller over replies (config
// kefu.canned), which it keeps.
func NewCanned(replies []string) *Canned {
	if replies == nil {
		replies = []string{}
	}
	return &Canned{replies: replies}
}

type cannedReply struct {
	Replies []string `json:"replies"`
}

// List is kefu.canned.list: the canned replies, in the order configured.
func (h *Canned) List(c *framework.Context) error {
	return c.Success(okInfo, cannedReply{Replies: h.replies})
}
