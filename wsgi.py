from evaluation import create_app, settle_worker

app = create_app()
settle_worker()
