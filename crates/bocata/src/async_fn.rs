//! The traits that let plain `async fn`s be views, hooks and error pages.

/// Defines a public trait implemented for every `async fn` taking the two given
/// arguments (borrowed for `'a`) and returning `bocata::Result` with a `Send` future,
/// and a crate-private form of it that can be boxed.
macro_rules! async_fn_trait {
    (
        $(#[$doc:meta])*
        pub trait $name:ident / $boxed:ident ($first:ident: $first_ty:ty, $second:ident: $second_ty:ty);
    ) => {
        $(#[$doc])*
        ///
        /// You never implement this trait; bocata implements it for every such function.
        pub trait $name<'a>: Send + Sync + 'static {
            /// The future the function returns.
            type Future: ::std::future::Future<Output = $crate::Result> + Send + 'a;

            /// Calls the function.
            fn call(&self, $first: $first_ty, $second: $second_ty) -> Self::Future;
        }

        impl<'a, F, Fut> $name<'a> for F
        where
            F: Fn($first_ty, $second_ty) -> Fut + Send + Sync + 'static,
            Fut: ::std::future::Future<Output = $crate::Result> + Send + 'a,
        {
            type Future = Fut;

            fn call(&self, $first: $first_ty, $second: $second_ty) -> Fut {
                self($first, $second)
            }
        }

        /// The function behind a pointer, so one list can hold functions of different
        /// types.
        pub(crate) trait $boxed: Send + Sync + 'static {
            fn call_boxed<'a>(
                &'a self,
                $first: $first_ty,
                $second: $second_ty,
            ) -> ::futures_util::future::BoxFuture<'a, $crate::Result>;
        }

        impl<H> $boxed for H
        where
            H: for<'a> $name<'a>,
        {
            fn call_boxed<'a>(
                &'a self,
                $first: $first_ty,
                $second: $second_ty,
            ) -> ::futures_util::future::BoxFuture<'a, $crate::Result> {
                Box::pin($name::call(self, $first, $second))
            }
        }
    };
}

pub(crate) use async_fn_trait;
