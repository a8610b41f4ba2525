package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// QueueDocs holds docs builds, beside refreshes and tasks so that none
// waits for the others.
const QueueDocs = "docs"

// DocsArgs is the job that builds an entity's docs. It is unique by
// entity while it waits: a build asked for again joins it.
type DocsArgs struct {
	Meta
	EntityRef string `json:"entity_ref" river:"unique"`
}

// Kind implements river.JobArgs.
func (DocsArgs) Kind() string { return "build_docs" }

// DocsBuilder builds an entity's docs and stores them: techdocs.Builder,
// through a function that returns what the build did (the job's output).
type DocsBuilder func(ctx context.Context, ref string) (any, error)

// pruneDocsArgs is the janitor that removes the docs of entities that
// are gone, every pruneDocsInterval, on the leader.
type pruneDocsArgs struct{ Meta }

func (pruneDocsArgs) Kind() string { return "prune_docs" }

// pruneDocsInterval is how often docs of deleted entities are removed;
// until then they take room and nothing else (every read goes through
// the entity).
const pruneDocsInterval = time.Hour

// AddDocs registers docs builds with b, and the removal of the docs of
// entities that are gone with prune.
func AddDocs(ws *Workers, b DocsBuilder, prune func(context.Context) (int, error)) {
	Add(ws, Kind{Queue: QueueDocs, MaxAttempts: 3, Unique: true}, func(ctx context.Context, job *river.Job[DocsArgs]) error {
		out, err := b(ctx, job.Args.EntityRef)
		if err != nil {
			return err
		}
		return river.RecordOutput(ctx, out)
	})
	addJanitor(ws, pruneDocsArgs{Meta{As: System}}, pruneDocsInterval, func(ctx context.Context) (any, error) {
		n, err := prune(ctx)
		return map[string]int{"removed": n}, err
	})
}

// BuildDocs asks for builds of the docs of refs, as the caller; one
// already waiting for an entity is left as it is, and one running, which
// may have read the source before the change the caller knows of, is made
// due again once it ends.
func (j *Jobs) BuildDocs(ctx context.Context, refs ...string) error {
	if len(refs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(refs))
	for i, ref := range refs {
		args := DocsArgs{Meta: Meta{As: PrincipalOf(portal.PrincipalFromContext(ctx))}, EntityRef: ref}
		opts, err := j.ws.insertOpts(args)
		if err != nil {
			return err
		}
		params[i] = river.InsertManyParams{Args: args, InsertOpts: opts}
	}
	res, err := j.client.InsertMany(ctx, params)
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.UniqueSkippedAsDuplicate && r.Job.State == rivertype.JobStateRunning {
			go j.RerunJob(context.WithoutCancel(ctx), r.Job.ID) // its own failure is the next trigger's to mend
		}
	}
	return nil
}
