//! The traits that let plain `async fn`s be views, hooks and error pages.
//!
//! Each public trait is implemented for every fitting function in two steps, so that
//! the compiler's error for one that does not fit names the fix:
//!
//! - [`AsyncResultFn`] is the shape: a function of the two arguments returning a future
//!   of `bocata::Result`. Its implementation is marked `#[diagnostic::do_not_recommend]`,
//!   so a function of another shape (not `async`, say) is reported with the public
//!   trait's `#[diagnostic::on_unimplemented]` message, which says what to write,
//!   instead of as "`Result` is not a future".
//! - The public trait adds `Send` outside of that mark, so a future that holds an `Rc`
//!   across an `.await` is still reported with the compiler's own note pointing at the
//!   `.await`.

use std::future::Future;

/// A function of two arguments whose result is a future of `bocata::Result`.
///
/// Public only to appear in the public traits' implementations; it cannot be named
/// outside bocata.
#[allow(unreachable_pub)] // Public in a private module, like a seal.
pub trait AsyncResultFn<A, B> {
    /// The future the function returns.
    type Future: Future<Output = crate::Result>;

    /// Calls the function.
    fn call(&self, a: A, b: B) -> Self::Future;
}

#[diagnostic::do_not_recommend]
impl<F, A, B, Fut> AsyncResultFn<A, B> for F
where
    F: Fn(A, B) -> Fut,
    Fut: Future<Output = crate::Result>,
{
    type Future = Fut;

    fn call(&self, a: A, b: B) -> Fut {
        self(a, b)
    }
}

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

        impl<'a, F> $name<'a> for F
        where
            F: $crate::async_fn::AsyncResultFn<$first_ty, $second_ty> + Send + Sync + 'static,
            <F as $crate::async_fn::AsyncResultFn<$first_ty, $second_ty>>::Future: Send + 'a,
        {
            type Future = <F as $crate::async_fn::AsyncResultFn<$first_ty, $second_ty>>::Future;

            fn call(&self, $first: $first_ty, $second: $second_ty) -> Self::Future {
                $crate::async_fn::AsyncResultFn::call(self, $first, $second)
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
