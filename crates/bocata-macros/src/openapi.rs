//! What a view method declares for the OpenAPI document: its doc comment, and its
//! `#[param(…)]` and `#[response(…)]` attributes, which are taken off the method.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, ImplItemFn, Lit, LitInt, LitStr, Meta, Token, Type};

/// A method's declarations.
#[derive(Default)]
pub(crate) struct Declared {
    doc: String,
    params: Vec<Param>,
    responses: Vec<Response>,
}

/// `#[param(name: Type, "description")]`.
struct Param {
    name: syn::Ident,
    ty: Type,
    description: Option<LitStr>,
}

/// `#[response(status, Type, "description", content = "type")]`, all but the status
/// optional.
struct Response {
    status: u16,
    ty: Option<Type>,
    description: Option<LitStr>,
    content: Option<LitStr>,
}

impl Declared {
    /// Reads `func`'s doc comment, and takes its `param` and `response` attributes off.
    pub(crate) fn take(func: &mut ImplItemFn) -> syn::Result<Self> {
        let mut declared = Self::default();
        let mut error: Option<syn::Error> = None;
        let mut keep = Vec::with_capacity(func.attrs.len());
        for attr in std::mem::take(&mut func.attrs) {
            let parsed = if attr.path().is_ident("param") {
                attr.parse_args::<Param>().map(|p| declared.params.push(p))
            } else if attr.path().is_ident("response") {
                attr.parse_args::<Response>()
                    .map(|r| declared.responses.push(r))
            } else {
                if let Some(line) = doc_line(&attr.meta) {
                    declared.doc.push_str(&line);
                    declared.doc.push('\n');
                }
                keep.push(attr);
                Ok(())
            };
            if let Err(e) = parsed {
                match &mut error {
                    Some(first) => first.combine(e),
                    None => error = Some(e),
                }
            }
        }
        func.attrs = keep;
        match error {
            Some(e) => Err(e),
            None => Ok(declared),
        }
    }
}

/// The text of a `#[doc = "…"]` attribute (a `///` line), without the space after
/// `///`.
fn doc_line(meta: &Meta) -> Option<String> {
    let Meta::NameValue(pair) = meta else {
        return None;
    };
    if !pair.path.is_ident("doc") {
        return None;
    }
    let Expr::Lit(expr) = &pair.value else {
        return None;
    };
    let Lit::Str(text) = &expr.lit else {
        return None;
    };
    let text = text.value();
    Some(text.strip_prefix(' ').unwrap_or(&text).to_owned())
}

impl Parse for Param {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = input.parse()?;
        input.parse::<Token![:]>()?;
        let ty = input.parse()?;
        let description = if input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            Some(input.parse()?)
        } else {
            None
        };
        if !input.is_empty() {
            return Err(input.error("expected `#[param(name: Type, \"description\")]`"));
        }
        Ok(Self {
            name,
            ty,
            description,
        })
    }
}

impl Parse for Response {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let status: LitInt = input.parse()?;
        let code: u16 = status.base10_parse()?;
        if !(100..=599).contains(&code) {
            return Err(syn::Error::new(
                status.span(),
                "a status is a number from 100 to 599",
            ));
        }
        let mut response = Self {
            status: code,
            ty: None,
            description: None,
            content: None,
        };
        while input.parse::<Option<Token![,]>>()?.is_some() {
            if input.is_empty() {
                break;
            }
            if input.peek(LitStr) {
                response.description = Some(input.parse()?);
            } else if input.peek(syn::Ident) && input.peek2(Token![=]) {
                let key: syn::Ident = input.parse()?;
                if key != "content" {
                    return Err(syn::Error::new(key.span(), "expected `content = \"type\"`"));
                }
                input.parse::<Token![=]>()?;
                response.content = Some(input.parse()?);
            } else if response.ty.is_none() {
                response.ty = Some(input.parse()?);
            } else {
                return Err(input.error("a response has one body type"));
            }
        }
        if !input.is_empty() {
            return Err(input.error(
                "expected `#[response(status, Type, \"description\", content = \"type\")]`",
            ));
        }
        if response.content.is_some() && response.ty.is_none() {
            return Err(syn::Error::new(
                status.span(),
                "`content = …` describes a body: name its type too",
            ));
        }
        Ok(response)
    }
}

/// The expression that builds the `Operation` for `method`, with `typed` the types of
/// the method's typed arguments.
pub(crate) fn operation(method: &str, declared: &Declared, typed: &[Type]) -> TokenStream {
    let method = syn::Ident::new(method, proc_macro2::Span::call_site());
    let doc = (!declared.doc.trim().is_empty()).then(|| {
        let doc = &declared.doc;
        quote!(let op = op.doc(#doc);)
    });
    let params = declared.params.iter().map(|param| {
        let name = param.name.to_string();
        let ty = &param.ty;
        let description = param
            .description
            .as_ref()
            .map(LitStr::value)
            .unwrap_or_default();
        quote!(let op = op.__param(#name, #description, (&Probe::<#ty>::new()).schema_fn());)
    });
    let responses = declared.responses.iter().map(|response| {
        let status = response.status;
        let description = response
            .description
            .as_ref()
            .map(LitStr::value)
            .unwrap_or_default();
        match &response.ty {
            Some(ty) => {
                let content = response
                    .content
                    .as_ref()
                    .map_or_else(|| "application/json".to_owned(), LitStr::value);
                quote! {
                    let op = op.__response(
                        #status, #content, #description, (&Probe::<#ty>::new()).schema_fn(),
                    );
                }
            }
            None if status >= 400 => quote!(let op = op.response_problem(#status, #description);),
            None => quote!(let op = op.response_empty(#status, #description);),
        }
    });
    quote! {
        {
            #[allow(unused_imports)]
            use ::bocata::openapi::__private::{
                ArgDescribed as _, ArgShaped as _, ArgUnknown as _, Described as _, Probe,
                Undescribed as _,
            };
            let op = ::bocata::openapi::Operation::new(::bocata::Methods::#method);
            #doc
            #(let op = (&&Probe::<#typed>::new()).describe_arg(op);)*
            #(#params)*
            #(#responses)*
            op
        }
    }
}
