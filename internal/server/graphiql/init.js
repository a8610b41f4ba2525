// Starts GraphiQL against this server's /graphql endpoint.
(function () {
  // Subscriptions go over graphql-transport-ws on the same path; the
  // headers of the Headers tab (Authorization) go in connection_init.
  var ws = (window.location.protocol === 'https:' ? 'wss://' : 'ws://') + window.location.host + '/graphql';
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + '/graphql', subscriptionUrl: ws });
  var defaultQuery = [
    '# Greenroom: run a query with Ctrl-Enter.',
    '# The Docs panel describes every type and field.',
    '{',
    '  entities(first: 10) {',
    '    edges {',
    '      node { ref kind name title errors { level message } }',
    '    }',
    '    pageInfo { hasNextPage endCursor }',
    '  }',
    '}',
    ''
  ].join('\n');
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: defaultQuery }));
})();
