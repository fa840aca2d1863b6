package engine_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine"
)

// remote is a client of n's admin API.
func (n *testNode) remote(t *testing.T) *remote.Client {
	t.Helper()
	c, err := remote.New(n.url, n.token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRemoteConnectionInsights reads stats, recent events and recent items
// through the admin API and its client: what the console sees when it runs
// apart from the node must be what the node says.
func TestRemoteConnectionInsights(t *testing.T) {
	a, _, connA, _ := connected(t)
	ctx := ctxFor(t)
	first, second := twoTasks(t, a, connA.LocalProject)
	exalate(t, a, first.ID)
	exalate(t, a, second.ID)
	rc := a.remote(t)

	want, err := a.Stats(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rc.Stats(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ConnectionID != want.ConnectionID || got.SyncedItems != want.SyncedItems || got.EventsOut != want.EventsOut ||
		got.EventsIn != want.EventsIn || got.Synchronized != want.Synchronized || got.Failing != want.Failing ||
		!got.LastSync.Equal(want.LastSync) || !maps.Equal(got.MedianStage, want.MedianStage) || len(got.MedianStage) != 4 {
		t.Errorf("stats through the API: %+v, the node says %+v", got, want)
	}
	if _, err := rc.Stats(ctx, "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("remote Stats of an unknown connection: err = %v, want ErrNotFound", err)
	}

	wantEvs, err := a.RecentEvents(ctx, connA.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	gotEvs, err := rc.RecentEvents(ctx, connA.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotEvs) != 2 || len(wantEvs) != 2 {
		t.Fatalf("recent events through the API: %+v, the node says %+v", gotEvs, wantEvs)
	}
	for i := range gotEvs {
		g, w := gotEvs[i], wantEvs[i]
		if g.EventID != w.EventID || g.Stage != w.Stage || g.RemoteURL != w.RemoteURL || g.LocalKey != w.LocalKey || !g.At.Equal(w.At) {
			t.Errorf("recent event %d through the API: %+v, the node says %+v", i, g, w)
		}
	}
	if one, err := rc.RecentEvents(ctx, connA.ID, 1); err != nil || len(one) != 1 || one[0].EventID != wantEvs[0].EventID {
		t.Errorf("remote RecentEvents(limit 1): %+v, %v", one, err)
	}

	wantItems, err := a.RecentItems(ctx, "Company", 4)
	if err != nil {
		t.Fatal(err)
	}
	gotItems, err := rc.RecentItems(ctx, "Company", 4)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(gotItems, wantItems, func(g, w engine.Item) bool {
		return g.ID == w.ID && g.Key == w.Key && g.Summary == w.Summary && g.URL == w.URL && g.ModifiedAt.Equal(w.ModifiedAt)
	}) || len(gotItems) != 4 {
		t.Errorf("recent items through the API: %+v, the node says %+v", gotItems, wantItems)
	}
	if _, err := rc.RecentItems(ctx, "Nope", 0); !errors.Is(err, engine.ErrUnknownProject) {
		t.Errorf("remote RecentItems(Nope): err = %v, want ErrUnknownProject", err)
	}
}

// TestRemoteWizardChecks runs the wizard's checks through the admin API and
// its client, errors included.
func TestRemoteWizardChecks(t *testing.T) {
	a, b := startNode(t, "Acme", &clock{}), startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	rc := b.remote(t)

	info, ps, err := rc.DestinationProjects(ctx, a.url, a.token)
	if err != nil || info.Name != "Acme" || !slices.Equal(projectNames(ps), []string{"Company", "Test"}) {
		t.Errorf("remote DestinationProjects: %+v, %v, %v", info, projectNames(ps), err)
	}
	wrong := "tdm_admin_wrong-token-for-acme"
	_, _, err = rc.DestinationProjects(ctx, a.url, wrong)
	if !errors.Is(err, engine.ErrBadRequest) || !strings.Contains(err.Error(), "refused the admin token") || strings.Contains(err.Error(), wrong) {
		t.Errorf("remote DestinationProjects with a wrong token: err = %v", err)
	}
	if info, _, err := rc.DestinationProjects(ctx, b.url, ""); err != nil || info.Name != "Globex" {
		t.Errorf("remote DestinationProjects of the node itself: %+v, %v", info, err)
	}

	_, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rc.PreviewInvitation(ctx, code)
	if err != nil || p.Initiator.Name != "Acme" || p.ProjectName != "Company" || p.Mode != engine.ModeBasic || p.Expires.IsZero() {
		t.Errorf("remote PreviewInvitation: %+v, %v", p, err)
	}
	if _, err := rc.PreviewInvitation(ctx, "hello"); !errors.Is(err, engine.ErrInvitationMalformed) {
		t.Errorf("remote preview of garbage: err = %v, want ErrInvitationMalformed", err)
	}
	a.stop()
	if _, err := rc.PreviewInvitation(ctx, code); !errors.Is(err, engine.ErrUnreachable) {
		t.Errorf("remote preview, initiator down: err = %v, want ErrUnreachable", err)
	}
	a.start(t, "Acme")
	if _, err := rc.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.PreviewInvitation(ctx, code); !errors.Is(err, engine.ErrInvitationUsed) {
		t.Errorf("remote preview of a used code: err = %v, want ErrInvitationUsed", err)
	}
}
