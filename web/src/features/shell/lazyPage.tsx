import { Component, lazy, type ComponentType, type ReactNode } from 'react';
import { Button } from '../../components/ui/Button';

const RELOADED = 'pulseboard:reloaded-for-new-version';

/**
 * A route's code, loaded on demand. After an upgrade the chunk names of the old
 * build are gone: the first failure reloads the page once (the new index.html names
 * the new chunks); a second one is shown by `PageErrorBoundary`.
 */
export function lazyPage<T extends ComponentType>(load: () => Promise<{ default: T }>) {
  return lazy(() =>
    load().then(
      (module) => {
        sessionStorage.removeItem(RELOADED);
        return module;
      },
      (error: unknown) => {
        if (!sessionStorage.getItem(RELOADED)) {
          sessionStorage.setItem(RELOADED, '1');
          window.location.reload();
          return new Promise<never>(() => {});
        }
        throw error;
      },
    ),
  );
}

/** Shows a page that failed to load or render instead of a blank screen. */
export class PageErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div role="alert" className="mx-auto max-w-md py-24 text-center">
        <h1 className="text-xl font-semibold text-gray-900">This page could not be loaded</h1>
        <p className="mt-2 text-sm text-gray-600">{this.state.error.message || 'Something went wrong.'}</p>
        <Button className="mt-6" onClick={() => window.location.reload()}>
          Reload
        </Button>
      </div>
    );
  }
}
