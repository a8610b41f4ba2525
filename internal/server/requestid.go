package server

import (
	"net/http"
	"unicode"

	"github.com/google/uuid"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// withRequestID gives every request an id: the X-Request-ID a proxy sent,
// when it is short and printable, or a new one. It is sent back in the
// response, logged, and kept with audit events.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = uuid.Must(uuid.NewV7()).String()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(portal.NewContextWithRequestID(r.Context(), id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c > unicode.MaxASCII || !unicode.IsPrint(c) || c == ' ' {
			return false
		}
	}
	return true
}
