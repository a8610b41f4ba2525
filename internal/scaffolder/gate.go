package scaffolder

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Gate is an approval a task waits at: greenroom:approval returns it as
// its error, and the run stops there (Result.Waiting) with the step
// waiting. The task holds no worker while it waits; an approval
// checkpoints the step as completed and resumes the run after it, a
// rejection or the deadline fails it.
type Gate struct {
	StepID    string    `json:"stepId"`
	Approvers []string  `json:"approvers"` // entity refs; any of them may decide
	Reason    string    `json:"reason"`
	Deadline  time.Time `json:"deadline"`
}

func (g *Gate) Error() string { return "waiting for approval: " + g.Reason }

func (g *Gate) describe() string {
	who := "anyone allowed to approve"
	if len(g.Approvers) > 0 {
		who = strings.Join(g.Approvers, ", ")
	}
	return fmt.Sprintf("Waiting for approval by %s until %s: %s", who, g.Deadline.UTC().Format(time.RFC3339), g.Reason)
}

// DefaultGateTimeout is how long a gate waits when its step names no
// timeout.
const DefaultGateTimeout = 24 * time.Hour

// approval is greenroom:approval.
type approval struct{}

func (approval) Info() ActionInfo {
	return ActionInfo{
		ID:          "greenroom:approval",
		Description: "Parks the task until one of the approvers approves it (approveTask) or rejects it (rejectTask); it fails when the timeout passes first. The task holds no worker while it waits, and survives restarts.",
		Input: object([]string{"approvers"}, map[string]any{
			"approvers": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "minItems": 1,
				"description": "Entity refs of who may decide: users, or groups whose members may"},
			"reason":  str("What the approvers are asked to approve"),
			"timeout": str("How long to wait, such as 30m or 72h (default 24h)"),
		}),
		Output: object(nil, map[string]any{
			"approvedBy": map[string]any{"type": "string", "examples": []any{"user:default/jane"}},
			"comment":    str("The approver's comment"),
		}),
		DryRun: true,
	}
}

func (approval) Run(_ context.Context, ac *ActionContext) error {
	var in struct {
		Approvers []string
		Reason    string
		Timeout   string
	}
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	timeout := DefaultGateTimeout
	if in.Timeout != "" {
		d, err := time.ParseDuration(in.Timeout)
		if err != nil || d <= 0 {
			return fmt.Errorf("timeout %q is not a duration such as 30m or 72h", in.Timeout)
		}
		timeout = d
	}
	approvers := make([]string, len(in.Approvers))
	for i, a := range in.Approvers {
		approvers[i] = strings.ToLower(strings.TrimSpace(a))
	}
	if ac.DryRun {
		ac.Logf("Dry run: would wait up to %s for approval by %s", timeout, strings.Join(approvers, ", "))
		ac.Output("approvedBy", "dry-run")
		ac.Output("comment", "")
		return nil
	}
	return &Gate{Approvers: approvers, Reason: in.Reason, Deadline: time.Now().Add(timeout).UTC()}
}
