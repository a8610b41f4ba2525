package server

import (
	"context"
	"net/url"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
)

// websocketTransport serves subscriptions over graphql-transport-ws (and
// the older graphql-ws, which gqlgen speaks too) with coder/websocket.
// Browsers cannot set headers on a WebSocket, so the connection_init
// payload's Authorization, when given, decides who the connection's
// operations run as, through authenticate; a refused token closes the
// connection with the reason. Origins are checked as CORS allows them: the
// API's own, and lim.CORS.AllowedOrigins.
func websocketTransport(lim Limits, authenticate func(context.Context, []string) (context.Context, error)) transport.Websocket {
	var hosts []string
	for _, o := range lim.CORS.AllowedOrigins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			hosts = append(hosts, u.Host)
		}
	}
	limit := lim.MaxBodyBytes
	return transport.Websocket{
		Implementation:        transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{OriginPatterns: hosts}},
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 15 * time.Second,
		PayloadReadLimit:      &limit,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			h := p.Authorization()
			if h == "" {
				h = p.GetString("authorization")
			}
			if authenticate == nil || h == "" {
				return ctx, nil, nil
			}
			authed, err := authenticate(ctx, []string{h})
			if err != nil {
				return ctx, nil, err // gqlgen closes the connection with err's message
			}
			return authed, nil, nil
		},
	}
}
