// Starts GraphiQL against this server's /graphql endpoint.
(function () {
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + '/graphql' });
  var defaultQuery = [
    '# Welcome to Greenroom. Press the play button (or Ctrl-Enter) to run a query;',
    '# the Docs panel describes every type and field.',
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
