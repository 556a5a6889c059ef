package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/rampart-dev/rampart/engine"
)

// Approval statuses.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusDenied   = "denied"
	StatusExpired  = "expired"
)

// Approval is an ask decision held for a human's answer: the waiting
// request of POST /v1/check?wait=1, and the object GET /v1/approvals lists
// and POST /v1/approvals/{id} answers.
type Approval struct {
	ID       string          `json:"id"`
	Status   string          `json:"status"`
	Call     engine.ToolCall `json:"call"`
	Decision engine.Decision `json:"decision"` // the ask
	Adapter  string          `json:"adapter,omitempty"`
	Created  time.Time       `json:"created"`
	Expires  time.Time       `json:"expires"`
	Resolved *time.Time      `json:"resolved,omitempty"`
	// ResolvedBy names who answered ("" while pending and when expired).
	ResolvedBy string `json:"resolved_by"`
	// Reason says why an approval expired, or what "always" did.
	Reason string `json:"reason,omitempty"`
	// Always is set on an allow answered with "always allow": an exact
	// allow rule for the call was added to the user's policy.
	Always bool `json:"always,omitempty"`
}

// maxPendingApprovals bounds the approvals waiting at once.
const maxPendingApprovals = 1000

// keepResolved is how long an answered approval can still be looked up
// (and answering it again is a 409, not a 404).
const keepResolved = 10 * time.Minute

var (
	errNoApproval       = errors.New("no such approval")
	errAlreadyResolved  = errors.New("approval already resolved")
	errTooManyApprovals = fmt.Errorf("too many pending approvals (%d); answer some first", maxPendingApprovals)
)

// approvalStore holds pending approvals and, for a while, answered ones.
type approvalStore struct {
	mu      sync.Mutex
	byID    map[string]*heldApproval
	pending int
}

type heldApproval struct {
	a      Approval
	answer chan Approval // receives the final state once, when resolved
}

func newApprovalStore() *approvalStore {
	return &approvalStore{byID: map[string]*heldApproval{}}
}

// create holds a new pending approval for call and its ask decision. It
// returns the approval as created and the channel its final state will
// arrive on.
func (st *approvalStore) create(call engine.ToolCall, d engine.Decision, adapter string, timeout time.Duration) (Approval, <-chan Approval, error) {
	now := time.Now().UTC()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.prune(now)
	if st.pending >= maxPendingApprovals {
		return Approval{}, nil, errTooManyApprovals
	}
	id := newApprovalID()
	for st.byID[id] != nil {
		id = newApprovalID()
	}
	h := &heldApproval{
		a: Approval{ID: id, Status: StatusPending, Call: call, Decision: d, Adapter: adapter,
			Created: now, Expires: now.Add(timeout)},
		answer: make(chan Approval, 1),
	}
	st.byID[id] = h
	st.pending++
	return h.a, h.answer, nil
}

// resolve moves a pending approval to status (approved, denied or
// expired) and hands the final state to its waiter. It fails with
// errNoApproval or errAlreadyResolved (returning the approval as it is).
func (st *approvalStore) resolve(id, status, by, reason string, always bool) (Approval, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	h := st.byID[id]
	if h == nil {
		return Approval{}, errNoApproval
	}
	if h.a.Status != StatusPending {
		return h.a, errAlreadyResolved
	}
	now := time.Now().UTC()
	h.a.Status, h.a.ResolvedBy, h.a.Reason, h.a.Always, h.a.Resolved = status, by, reason, always, &now
	st.pending--
	h.answer <- h.a
	return h.a, nil
}

// setReason records a note on an approval (what "always" did).
func (st *approvalStore) setReason(id, reason string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if h := st.byID[id]; h != nil {
		h.a.Reason = reason
	}
}

func (st *approvalStore) get(id string) (Approval, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	h := st.byID[id]
	if h == nil {
		return Approval{}, false
	}
	return h.a, true
}

// list returns the pending approvals, oldest first.
func (st *approvalStore) list() []Approval {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := []Approval{}
	for _, h := range st.byID {
		if h.a.Status == StatusPending {
			out = append(out, h.a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

func (st *approvalStore) pendingCount() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.pending
}

// prune forgets approvals answered more than keepResolved ago.
func (st *approvalStore) prune(now time.Time) {
	for id, h := range st.byID {
		if h.a.Resolved != nil && now.Sub(*h.a.Resolved) > keepResolved {
			delete(st.byID, id)
		}
	}
}

// newApprovalID returns 8 hex digits: short enough to type in
// "rampart approve ID".
func newApprovalID() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("%08x", time.Now().UnixNano()&0xffffffff)
	}
	return hex.EncodeToString(b[:])
}
