import torch
torch.set_default_dtype(torch.float64)
B,T,V=2,4,5
g=torch.Generator().manual_seed(7)
logits=(torch.randn(B,T,V,generator=g)*3).round(decimals=2)
labels=torch.tensor([[1,3,-100,4],[2,0,1,-100]])
logits.requires_grad_(True)
sl=logits[:,:-1,:].reshape(-1,V); ll=labels[:,1:].reshape(-1)
loss=torch.nn.functional.cross_entropy(sl,ll,ignore_index=-100)
loss.backward()
print("logits",logits.detach().flatten().tolist())
print("loss %.17g"%loss.item())
print("grad",["%.17g"%x for x in logits.grad.flatten().tolist()])
