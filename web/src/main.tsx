import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter } from 'react-router';
import { ApiError } from './api/client';
import { keys } from './api/endpoints';
import { App } from './App';
import { widgetTypesQuery } from './features/shell/useProviders';
import './index.css';

const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({
    // A session that ended (logout elsewhere, expiry): re-ask who we are, and the
    // shell sends the browser to the login page.
    onError: (error, query) => {
      if (error instanceof ApiError && error.status === 401 && query.queryKey[0] !== keys.me[0] && query.queryKey[0] !== 'shared') {
        void queryClient.invalidateQueries({ queryKey: keys.me });
      }
    },
  }),
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      refetchOnWindowFocus: false,
      retry: (count, error) => !(error instanceof ApiError && error.status > 0 && error.status < 500) && count < 2,
    },
    mutations: { retry: false },
  },
});

// Which widget types wait for a provider decides how tall their cards are: ask
// (public, static, cached for good) before any dashboard draws, so none resizes.
void queryClient.prefetchQuery(widgetTypesQuery);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
