//! Procedural macros for [bocata](https://docs.rs/bocata).
//!
//! Use them through the re-exports in `bocata` (`#[bocata::view]`); this crate is an
//! implementation detail.

mod openapi;

use proc_macro::TokenStream;
use proc_macro2::{Spacing, Span, TokenTree};
use quote::{ToTokens, format_ident, quote};
use syn::{FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, parse_macro_input, spanned::Spanned};

use crate::openapi::Declared;

/// The view methods bocata dispatches to, with the `Methods` constant each one enables.
const VIEW_METHODS: [(&str, &str); 6] = [
    ("on_get", "GET"),
    ("on_post", "POST"),
    ("on_put", "PUT"),
    ("on_patch", "PATCH"),
    ("on_delete", "DELETE"),
    ("on_websocket", "WEBSOCKET"),
];

/// The names in [`VIEW_METHODS`], for error messages.
fn view_method_names() -> String {
    let names: Vec<&str> = VIEW_METHODS.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

/// Other `View` methods a view may define in the same block.
const VIEW_ITEMS: [&str; 3] = ["body_limit", "name", "websocket_protocols"];

/// Turns an `impl` block of `on_get`, `on_post`, … methods into a `bocata::View`.
///
/// See `bocata::view` for the documentation.
///
/// A mistake is reported as a compile error, and the rest is still expanded: the view
/// implements `View` with the methods that are right, and a method in error stays an
/// ordinary method of the struct. So the error is the only message shown, and using the
/// struct as a view does not add a second one.
#[proc_macro_attribute]
pub fn view(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    if !args.is_empty() {
        let args = proc_macro2::TokenStream::from(args);
        errors.push(syn::Error::new(
            args.span(),
            "#[bocata::view] takes no arguments",
        ));
    }
    let item = parse_macro_input!(input as ItemImpl);
    let expanded = expand(item, &mut errors);
    let errors = errors.iter().map(syn::Error::to_compile_error);
    quote!(#(#errors)* #expanded).into()
}

/// The `View` implementation of `item`, and an inherent `impl` block for its other
/// items. Each mistake found is pushed onto `errors`.
fn expand(item: ItemImpl, errors: &mut Vec<syn::Error>) -> proc_macro2::TokenStream {
    if let Some((_, path, _)) = &item.trait_ {
        let is_view = path.segments.last().is_some_and(|s| s.ident == "View");
        if !is_view {
            errors.push(syn::Error::new(
                path.span(),
                "#[bocata::view] goes on `impl MyView { … }` or `impl View for MyView { … }`",
            ));
            return quote!(#item);
        }
    }

    let mut view_items = Vec::new();
    let mut other_items = Vec::new();
    let mut methods = Vec::new();
    let mut operations = Vec::new();
    // The methods that never wait, each with the plain function that runs it.
    let mut ready = Vec::new();
    let mut mistakes = 0;
    for impl_item in item.items {
        let ImplItem::Fn(func) = &impl_item else {
            other_items.push(impl_item);
            continue;
        };
        match classify(func) {
            Ok(Place::Method(method)) => {
                let ImplItem::Fn(mut func) = impl_item else {
                    unreachable!("matched as a function above")
                };
                methods.push(Ident::new(method, Span::call_site()));
                let declared = match Declared::take(&mut func) {
                    Ok(declared) => declared,
                    Err(e) => {
                        errors.push(e);
                        Declared::default()
                    }
                };
                let typed = typed_arguments(&func);
                if method != "WEBSOCKET" {
                    operations.push(openapi::operation(method, &declared, &typed));
                }
                if method != "WEBSOCKET" && typed.is_empty() && never_waits(&func) {
                    let (wrapper, inner) = as_plain_call(func);
                    ready.push((
                        Ident::new(method, Span::call_site()),
                        inner.sig.ident.clone(),
                    ));
                    view_items.push(ImplItem::Fn(wrapper));
                    other_items.push(ImplItem::Fn(inner));
                } else if typed.is_empty() {
                    view_items.push(ImplItem::Fn(func));
                } else {
                    let (wrapper, inner) = with_typed_arguments(func, &typed);
                    view_items.push(ImplItem::Fn(wrapper));
                    other_items.push(ImplItem::Fn(inner));
                }
            }
            Ok(Place::Trait) => view_items.push(impl_item),
            Ok(Place::Inherent) => other_items.push(impl_item),
            // Kept as an ordinary method, so that calls to it still resolve.
            Err(e) => {
                mistakes += 1;
                errors.push(e);
                other_items.push(impl_item);
            }
        }
    }
    if methods.is_empty() && mistakes == 0 {
        errors.push(syn::Error::new(
            item.self_ty.span(),
            format!("a view needs at least one of {}", view_method_names()),
        ));
    }

    let attrs = &item.attrs;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let inherent = if other_items.is_empty() {
        quote!()
    } else {
        quote! {
            #(#attrs)*
            impl #impl_generics #self_ty #where_clause {
                #(#other_items)*
            }
        }
    };
    let call_ready = if ready.is_empty() {
        quote!()
    } else {
        let (constants, plain): (Vec<_>, Vec<_>) = ready.into_iter().unzip();
        quote! {
            fn call_ready(
                &self,
                method: ::bocata::Methods,
                req: &::bocata::Request,
                res: &mut ::bocata::Res,
            ) -> ::std::option::Option<::bocata::Result> {
                #(
                    if method == ::bocata::Methods::#constants {
                        return ::std::option::Option::Some(self.#plain(req, res));
                    }
                )*
                ::std::option::Option::None
            }
        }
    };
    quote! {
        #inherent
        #(#attrs)*
        impl #impl_generics ::bocata::View for #self_ty #where_clause {
            #call_ready
            fn methods(&self) -> ::bocata::Methods {
                ::bocata::Methods::EMPTY #(.with(::bocata::Methods::#methods))*
            }
            ::bocata::__openapi_operations! {
                fn operations(&self) -> ::std::vec::Vec<::bocata::openapi::Operation> {
                    ::std::vec![#(#operations),*]
                }
            }
            #(#view_items)*
        }
    }
}

/// The types of a view method's arguments after `&self`, `req` and `res`: what bocata
/// reads from the request (`Json<T>`, `Form<T>`, `Query<T>`) before calling it.
fn typed_arguments(func: &ImplItemFn) -> Vec<syn::Type> {
    func.sig
        .inputs
        .iter()
        .skip(3)
        .filter_map(|arg| match arg {
            FnArg::Typed(typed) => Some((*typed.ty).clone()),
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// A method with typed arguments becomes two: the `View` method bocata calls, which
/// reads each argument (answering the request itself when one does not fit) and calls
/// the second, the method as written under a hidden name.
fn with_typed_arguments(mut func: ImplItemFn, typed: &[syn::Type]) -> (ImplItemFn, ImplItemFn) {
    let name = func.sig.ident.clone();
    let inner_name = format_ident!("__bocata_{}", name);
    let args: Vec<Ident> = (0..typed.len())
        .map(|i| format_ident!("__bocata_arg{}", i))
        .collect();
    let wrapper: ImplItemFn = syn::parse_quote! {
        async fn #name(
            &self,
            __bocata_req: &::bocata::Request,
            __bocata_res: &mut ::bocata::Res,
        ) -> ::bocata::Result {
            #(
                let #args = <#typed as ::bocata::extract::Extract>::extract(__bocata_req).await?;
            )*
            self.#inner_name(__bocata_req, __bocata_res, #(#args),*).await
        }
    };
    func.sig.ident = inner_name;
    func.attrs.retain(|attr| !attr.path().is_ident("doc"));
    func.attrs.push(syn::parse_quote!(#[doc(hidden)]));
    (wrapper, func)
}

/// Macros that never expand to an `.await`: std's, and the logging and JSON ones views
/// use. A call to any other macro may hide one, so a method that calls one is awaited.
const NEVER_WAITING_MACROS: [&str; 34] = [
    "assert",
    "assert_eq",
    "assert_ne",
    "concat",
    "dbg",
    "debug",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "env",
    "eprint",
    "eprintln",
    "error",
    "file",
    "format",
    "format_args",
    "include_bytes",
    "include_str",
    "info",
    "json",
    "line",
    "matches",
    "panic",
    "print",
    "println",
    "stringify",
    "todo",
    "trace",
    "unimplemented",
    "unreachable",
    "vec",
    "warn",
    "write",
    "writeln",
];

/// Whether `func` (an `on_*` method of `&self`, the request and the response) never
/// waits: its body has no `.await`, nor a call to a macro that could expand to one.
/// Such a method is finished by the time its future is first polled, so bocata may call
/// it as a plain function.
fn never_waits(func: &ImplItemFn) -> bool {
    fn may_wait(tokens: proc_macro2::TokenStream) -> bool {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let before = |i: usize| i.checked_sub(1).map(|i| &tokens[i]);
        tokens.iter().enumerate().any(|(i, token)| match token {
            TokenTree::Group(group) => may_wait(group.stream()),
            TokenTree::Ident(ident) => {
                ident == "await"
                    && matches!(before(i), Some(TokenTree::Punct(p)) if p.as_char() == '.')
            }
            // A macro call: `name!(…)`, `name![…]` or `name! {…}`.
            TokenTree::Punct(bang) if bang.as_char() == '!' && bang.spacing() == Spacing::Alone => {
                match (before(i), tokens.get(i + 1)) {
                    (Some(TokenTree::Ident(name)), Some(TokenTree::Group(_))) => {
                        let name = name.to_string();
                        // `if !(…)`: a keyword is no macro's name.
                        let keyword = ["if", "while", "match", "return", "in", "else", "break"];
                        !keyword.contains(&name.as_str())
                            && !NEVER_WAITING_MACROS.contains(&name.as_str())
                    }
                    _ => false,
                }
            }
            _ => false,
        })
    }
    let receiver = matches!(func.sig.inputs.first(), Some(FnArg::Receiver(_)));
    receiver && func.sig.inputs.len() == 3 && !may_wait(func.block.to_token_stream())
}

/// A method that never waits becomes two: the `View` method, an `async fn` that calls
/// the second, and the method as written, as a plain function under a hidden name,
/// which bocata's `call_ready` calls directly. (The wrapper has the span of the method's
/// signature, so that a mistake in it is reported there.)
fn as_plain_call(mut func: ImplItemFn) -> (ImplItemFn, ImplItemFn) {
    let name = func.sig.ident.clone();
    let plain_name = format_ident!("__bocata_plain_{}", name);
    let wrapper: ImplItemFn = syn::parse_quote_spanned! {func.sig.span()=>
        async fn #name(
            &self,
            __bocata_req: &::bocata::Request,
            __bocata_res: &mut ::bocata::Res,
        ) -> ::bocata::Result {
            self.#plain_name(__bocata_req, __bocata_res)
        }
    };
    func.sig.ident = plain_name;
    func.sig.asyncness = None;
    func.attrs.retain(|attr| !attr.path().is_ident("doc"));
    func.attrs.push(syn::parse_quote!(#[doc(hidden)]));
    (wrapper, func)
}

/// Where a function of the block goes.
enum Place {
    /// An `on_*` method of the `View` impl, with the `Methods` constant it enables.
    Method(&'static str),
    /// Another item of the `View` impl.
    Trait,
    /// An ordinary method of the struct, in the inherent impl.
    Inherent,
}

/// Where `func` goes, or why it is a mistake.
fn classify(func: &syn::ImplItemFn) -> syn::Result<Place> {
    let name = func.sig.ident.to_string();
    if let Some((_, method)) = VIEW_METHODS.iter().find(|(n, _)| *n == name) {
        if func.sig.asyncness.is_none() {
            return Err(syn::Error::new(
                func.sig.fn_token.span(),
                format!("`{name}` must be an `async fn`"),
            ));
        }
        Ok(Place::Method(method))
    } else if VIEW_ITEMS.contains(&name.as_str()) {
        Ok(Place::Trait)
    } else if name == "on_head" || name == "on_options" {
        Err(syn::Error::new(
            func.sig.ident.span(),
            format!(
                "`{name}` is answered by bocata itself: HEAD runs `on_get` without sending \
                 the body, OPTIONS lists the allowed methods"
            ),
        ))
    } else if name.starts_with("on_") {
        Err(syn::Error::new(
            func.sig.ident.span(),
            format!(
                "unknown view method `{name}`; expected one of {}",
                view_method_names()
            ),
        ))
    } else {
        Ok(Place::Inherent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(body: &proc_macro2::TokenStream) -> ImplItemFn {
        syn::parse_quote! {
            async fn on_get(&self, req: &Request, res: &mut Res) -> Result #body
        }
    }

    #[test]
    fn a_method_without_await_or_unknown_macros_never_waits() {
        let body = quote!({
            let n: u32 = req.param("n")?;
            if n == 0 {
                panic!("zero");
            }
            res.text(format!("{n} {}", vec![1, 2].len()));
            tracing::info!(n, "answered");
            Ok(())
        });
        assert!(never_waits(&method(&body)));
    }

    #[test]
    fn an_await_anywhere_or_a_macro_that_may_hide_one_means_waiting() {
        let bodies = [
            quote!({
                req.text().await?;
                Ok(())
            }),
            quote!({
                let f = async { req.bytes().await };
                Ok(())
            }),
            quote!({
                if x {
                    for _ in 0..2 {
                        thing().await;
                    }
                }
                Ok(())
            }),
            quote!({
                let (a,) = tokio::join!(req.text());
                Ok(())
            }),
            quote!({
                my_macro! { 1 };
                Ok(())
            }),
        ];
        for body in bodies {
            assert!(!never_waits(&method(&body)), "{body}");
        }
    }

    #[test]
    fn not_equal_and_negation_are_not_macro_calls() {
        let body = quote!({
            if a != b && !(c) {
                res.text("x");
            }
            if !(d) {
                return Ok(());
            }
            Ok(())
        });
        assert!(never_waits(&method(&body)));
    }

    #[test]
    fn a_method_with_typed_arguments_waits_for_them() {
        let func: ImplItemFn = syn::parse_quote! {
            async fn on_post(&self, req: &Request, res: &mut Res, form: Form<Login>) -> Result {
                Ok(())
            }
        };
        assert!(!never_waits(&func));
    }
}
